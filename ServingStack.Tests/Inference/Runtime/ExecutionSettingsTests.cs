using System.Globalization;
using Microsoft.Extensions.Logging;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Runtime;

/// <summary>
/// Intra-op threads 0 is ONNX Runtime's default, except where that would count more cores than the process may use
/// (a container's CPU limit, an affinity mask): there the server passes the processors it may use.
/// </summary>
public sealed class ExecutionSettingsTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void Intra_op_threads_0_is_onnx_runtimes_default_capped_to_the_processors_the_process_may_use()
    {
        Assert.Equal(ProcessorBudget.IntraOpThreads, new ExecutionSettings().EffectiveIntraOpThreads);
        Assert.InRange(ProcessorBudget.IntraOpThreads, 0, Environment.ProcessorCount);
        Assert.Equal(3, new ExecutionSettings { IntraOpThreads = 3 }.EffectiveIntraOpThreads);
    }

    [Theory]
    [InlineData(2, null, 0)]    // topology unreadable: ONNX Runtime's default
    [InlineData(16, 8, 0)]      // SMT host, no limit: ONNX Runtime's default (one per physical core)
    [InlineData(2, 2, 0)]       // as many processors as cores: ONNX Runtime's default
    [InlineData(2, 32, 2)]      // container limited to 2 CPUs on a 32-core node: the limit
    [InlineData(1, 0, 0)]
    public void The_budget_is_the_usable_processors_only_where_they_are_fewer_than_the_physical_cores(int processors, int? cores, int expected) =>
        Assert.Equal(expected, ProcessorBudget.Compute(processors, cores));

    [Fact]
    public void Physical_cores_are_distinct_package_and_core_pairs_in_sysfs()
    {
        var root = Path.Combine(Path.GetTempPath(), "cpu-topology-" + Guid.NewGuid().ToString("N"));
        try
        {
            // Two packages of two cores with two threads each, plus entries that are not CPUs.
            var cpu = 0;
            foreach (var package in new[] { "0", "1" })
            {
                foreach (var core in new[] { "0", "1" })
                {
                    for (var thread = 0; thread < 2; thread++)
                    {
                        var topology = Directory.CreateDirectory(Path.Combine(root, $"cpu{cpu++}", "topology")).FullName;
                        File.WriteAllText(Path.Combine(topology, "core_id"), core + "\n");
                        File.WriteAllText(Path.Combine(topology, "physical_package_id"), package + "\n");
                    }
                }
            }

            Directory.CreateDirectory(Path.Combine(root, "cpufreq"));
            Directory.CreateDirectory(Path.Combine(root, "cpuidle"));

            Assert.Equal(4, ProcessorBudget.PhysicalCores(root));
            Assert.Null(ProcessorBudget.PhysicalCores(Path.Combine(root, "missing")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void A_session_is_created_with_the_effective_intra_op_threads_and_says_so(int configured)
    {
        var weights = MlpWeights.Create(7);
        var path = _repo.AddVersion("mnist", 1, ModelFactory.CreateMlp(weights));
        var logger = new ListLogger<OnnxSessionFactory>();

        using var session = new OnnxSessionFactory(logger).Create(path, new ExecutionSettings { IntraOpThreads = configured }, "mnist", 1);

        var expected = configured == 0 ? ProcessorBudget.IntraOpThreads : configured;
        var line = Assert.Single(logger.Messages, m => m.Contains("ONNX Runtime session", StringComparison.Ordinal));
        Assert.Contains($"intra-op threads {expected.ToString(CultureInfo.InvariantCulture)},", line, StringComparison.Ordinal);
        var row = TestData.MnistRows(1, seed: 3)[0];
        using var input = InferenceTensor.AllocateUninitialized("x", TensorDataType.Fp32, [1, MlpWeights.InputSize]);
        row.CopyTo(input.GetSpan<float>());
        var output = Assert.Single(session.Run([input], session.Outputs));
        TfServingPredictTests.AssertClose(weights.Evaluate(row), output.GetSpan<float>().ToArray());
        output.Dispose();
    }

    private sealed class ListLogger<T> : ILogger<T>
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
