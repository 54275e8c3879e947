using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference;

/// <summary>The committed demo models are the factory's output, and the demo config serves them as documented.</summary>
public sealed class DemoRepositoryTests
{
    public const int StableSeed = 42;
    public const int CanarySeed = 43;

    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ServingStack.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("ServingStack.sln not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData(1, StableSeed)]
    [InlineData(2, CanarySeed)]
    public void Committed_demo_models_match_the_model_factory(int version, int seed)
    {
        var path = Path.Combine(RepositoryRoot(), "models", "mnist", version.ToString(), "model.onnx");
        var expected = ModelFactory.CreateMlp(MlpWeights.Create(seed));
        if (Environment.GetEnvironmentVariable("SERVINGSTACK_UPDATE_MODELS") == "1")
        {
            ModelFactory.WriteVersion(Path.Combine(RepositoryRoot(), "models", "mnist"), version, expected);
        }

        Assert.True(File.Exists(path), $"{path} is missing; run the tests with SERVINGSTACK_UPDATE_MODELS=1 to write it");
        Assert.True(expected.AsSpan().SequenceEqual(File.ReadAllBytes(path)),
            $"{path} differs from ModelFactory's output; run the tests with SERVINGSTACK_UPDATE_MODELS=1 to regenerate it");
    }

    [Fact]
    public async Task Demo_config_serves_stable_and_canary_labels()
    {
        var config = Path.Combine(RepositoryRoot(), "models", "models.config");
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var row = TestData.MnistRows(1)[0];

        foreach (var (path, seed) in new[] { ("/v1/models/mnist/labels/stable:predict", StableSeed), ("/v1/models/mnist/labels/canary:predict", CanarySeed), ("/v1/models/mnist:predict", CanarySeed) })
        {
            var (status, body, text) = await Json.PostAsync(server.Client, path, new JsonObject { ["instances"] = Json.Matrix([row]) });
            Assert.True(status == 200, $"{path}: {text}");
            TfServingPredictTests.AssertClose(MlpWeights.Create(seed).Evaluate(row), Json.Floats(body!["predictions"]![0]));
        }
    }
}
