using Microsoft.Extensions.Logging.Abstractions;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Runtime;

/// <summary>
/// Outputs whose shape is known before the run are written by ONNX Runtime into the response's own tensors (no copy);
/// the others, and models whose declared output shapes do not hold, take the copying path with the same answers.
/// </summary>
public sealed class PreallocatedOutputTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void A_batched_output_named_like_the_input_batch_is_written_in_place_with_every_row_right()
    {
        var weights = MlpWeights.Create(5);
        using var session = Open("mlp", ModelFactory.CreateMlp(weights));
        var rows = TestData.MnistRows(7, seed: 21);
        using var input = InferenceTensor.AllocateUninitialized("x", TensorDataType.Fp32, [rows.Length, MlpWeights.InputSize]);
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r].CopyTo(input.GetSpan<float>()[(r * MlpWeights.InputSize)..]);
        }

        var output = Assert.Single(session.Run([input], session.Outputs));

        Assert.Equal(1, session.PreallocatedRuns);
        Assert.True(session.TrustsDeclaredOutputShapes);
        Assert.Equal([rows.Length, MlpWeights.OutputSize], output.Shape);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), output.GetSpan<float>().Slice(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
        }

        output.Dispose();
    }

    [Fact]
    public void Two_outputs_and_a_chosen_one_are_written_in_place()
    {
        using var session = Open("multi", ModelFactory.CreateMultiInputOutput());
        using var a = Filled(ModelFactory.MultiInputA, 4, i => i * 0.5f);
        using var b = Filled(ModelFactory.MultiInputB, 4, i => 3 - i);

        var both = session.Run([a, b], session.Outputs);
        var sumOnly = session.Run([a, b], [session.Outputs.Single(o => o.Name == ModelFactory.MultiOutputSum)]);

        Assert.Equal(2, session.PreallocatedRuns);
        Assert.Equal([ModelFactory.MultiOutputSum, ModelFactory.MultiOutputProduct], both.Select(t => t.Name));
        var sum = both[0].GetSpan<float>();
        var product = both[1].GetSpan<float>();
        var alone = Assert.Single(sumOnly).GetSpan<float>();
        for (var i = 0; i < 4 * ModelFactory.MultiWidth; i++)
        {
            Assert.Equal((i * 0.5f) + (3 - i), sum[i]);
            Assert.Equal(i * 0.5f * (3 - i), product[i]);
            Assert.Equal(sum[i], alone[i]);
        }

        foreach (var tensor in both.Concat(sumOnly))
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void An_output_with_another_symbolic_dimension_is_copied_out()
    {
        using var session = Open("varwidth", ModelFactory.CreateVariableWidthIdentity());
        using var input = InferenceTensor.AllocateUninitialized(ModelFactory.IdentityInputName, TensorDataType.Fp32, [2, 5]);
        for (var i = 0; i < 10; i++)
        {
            input.GetSpan<float>()[i] = i - 4.5f;
        }

        var output = Assert.Single(session.Run([input], session.Outputs));

        Assert.Equal(0, session.PreallocatedRuns);
        Assert.Equal([2L, 5L], output.Shape);
        Assert.Equal(input.GetSpan<float>().ToArray(), output.GetSpan<float>().ToArray());
        output.Dispose();
    }

    [Fact]
    public void A_model_whose_declared_output_shape_does_not_hold_answers_through_the_copying_path_from_then_on()
    {
        using var session = Open("misdeclared", ModelFactory.CreateMisdeclaredTile());
        using var input = Filled(ModelFactory.IdentityInputName, 2, i => i + 1);
        using var twice = Repeats(2);
        using var once = Repeats(1);
        Assert.True(session.TrustsDeclaredOutputShapes);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            var output = Assert.Single(session.Run([input, twice], session.Outputs));
            Assert.Equal([4L, ModelFactory.MultiWidth], output.Shape);
            Assert.Equal([1f, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6], output.GetSpan<float>().ToArray());
            output.Dispose();
        }

        // The shapes proved untrustworthy once: even a run they would fit takes the copying path now.
        var same = Assert.Single(session.Run([input, once], session.Outputs));
        Assert.Equal([1f, 2, 3, 4, 5, 6], same.GetSpan<float>().ToArray());
        same.Dispose();
        Assert.False(session.TrustsDeclaredOutputShapes);
        Assert.Equal(0, session.PreallocatedRuns);
    }

    private static InferenceTensor Repeats(long rows)
    {
        var tensor = InferenceTensor.AllocateUninitialized(ModelFactory.TileRepeatsName, TensorDataType.Int64, [2]);
        tensor.GetSpan<long>()[0] = rows;
        tensor.GetSpan<long>()[1] = 1;
        return tensor;
    }

    private OnnxModelSession Open(string name, byte[] model) =>
        new OnnxSessionFactory(NullLogger<OnnxSessionFactory>.Instance).Create(_repo.AddVersion(name, 1, model), new ExecutionSettings(), name, 1);

    private static InferenceTensor Filled(string name, int rows, Func<int, float> value)
    {
        var tensor = InferenceTensor.AllocateUninitialized(name, TensorDataType.Fp32, [rows, ModelFactory.MultiWidth]);
        var span = tensor.GetSpan<float>();
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = value(i);
        }

        return tensor;
    }
}
