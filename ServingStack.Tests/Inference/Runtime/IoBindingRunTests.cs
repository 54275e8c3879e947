using Microsoft.Extensions.Logging.Abstractions;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Runtime;

/// <summary>
/// The IoBinding run path that CUDA sessions take, exercised on a CPU session (no GPU here): the same answers as the
/// reference MLP, for every row, and the same as a plain run.
/// </summary>
public sealed class IoBindingRunTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void A_bound_run_returns_every_row_of_the_reference_model_like_a_plain_run()
    {
        var weights = MlpWeights.Create(42);
        var path = _repo.AddVersion("mnist", 1, ModelFactory.CreateMlp(weights));
        using var session = new OnnxSessionFactory(NullLogger<OnnxSessionFactory>.Instance).Create(path, new ExecutionSettings(), "mnist", 1);
        Assert.False(session.UseIoBinding);
        var rows = TestData.MnistRows(5, seed: 11);
        using var input = InferenceTensor.AllocateUninitialized("x", TensorDataType.Fp32, [rows.Length, MlpWeights.InputSize]);
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r].CopyTo(input.GetSpan<float>()[(r * MlpWeights.InputSize)..]);
        }

        var plain = session.Run([input], session.Outputs);
        session.UseIoBinding = true;
        var bound = session.Run([input], session.Outputs);

        var output = Assert.Single(bound);
        Assert.Equal([rows.Length, MlpWeights.OutputSize], output.Shape);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), output.GetSpan<float>().Slice(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
        }

        Assert.Equal(plain[0].GetSpan<float>().ToArray(), output.GetSpan<float>().ToArray());
        plain[0].Dispose();
        output.Dispose();
    }
}
