using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Bench;

/// <summary>The wide MLP the load tests use: deterministic, ~100 MB, and a valid model.</summary>
public sealed class WideMlpTests
{
    [Fact]
    public void Wide_mlp_is_deterministic_about_100_MB_and_runs_in_onnx_runtime()
    {
        // No bound on how long building takes: speed is never asserted (it failed at 10.7 s on a loaded 2-core box).
        var model = ModelFactory.CreateWideMlp(seed: 7);
        Assert.InRange(model.Length, 95_000_000, 105_000_000);
        Assert.Equal(SHA256.HashData(model), SHA256.HashData(ModelFactory.CreateWideMlp(seed: 7)));
        Assert.NotEqual(SHA256.HashData(model), SHA256.HashData(ModelFactory.CreateWideMlp(seed: 8)));

        using var session = new InferenceSession(model);
        Assert.Equal([-1, ModelFactory.WideMlpInputSize], session.InputMetadata[ModelFactory.MlpInputName].Dimensions);
        Assert.Equal([-1, ModelFactory.WideMlpOutputSize], session.OutputMetadata[ModelFactory.MlpOutputName].Dimensions);

        const int rows = 2;
        var input = new float[rows * ModelFactory.WideMlpInputSize];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (i % 17) / 17f;
        }

        using var value = OrtValue.CreateTensorValueFromMemory(input, [rows, ModelFactory.WideMlpInputSize]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [ModelFactory.MlpInputName], [value], [ModelFactory.MlpOutputName]);
        var probabilities = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.Equal(rows * ModelFactory.WideMlpOutputSize, probabilities.Length);
        for (var r = 0; r < rows; r++)
        {
            var row = probabilities.AsSpan(r * ModelFactory.WideMlpOutputSize, ModelFactory.WideMlpOutputSize).ToArray();
            Assert.All(row, p => Assert.InRange(p, 0f, 1f));
            Assert.InRange(row.Sum(), 0.999f, 1.001f);
        }
    }
}
