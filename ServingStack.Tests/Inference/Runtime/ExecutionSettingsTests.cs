using System.Globalization;
using Microsoft.Extensions.Logging;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Runtime;

/// <summary>
/// Intra-op threads 0 is resolved by the server, not left to ONNX Runtime (whose own count was one thread on a 2-vCPU VM,
/// and the host's cores inside a container).
/// </summary>
public sealed class ExecutionSettingsTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void Intra_op_threads_0_means_one_per_processor_the_process_may_use()
    {
        Assert.Equal(Environment.ProcessorCount, new ExecutionSettings().EffectiveIntraOpThreads);
        Assert.Equal(3, new ExecutionSettings { IntraOpThreads = 3 }.EffectiveIntraOpThreads);
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

        var expected = configured == 0 ? Environment.ProcessorCount : configured;
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
