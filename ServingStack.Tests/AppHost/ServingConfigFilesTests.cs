using ServingStack.AppHost.Hosting;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Tests.AppHost;

/// <summary>The files the graph renders for a server are read by the server's own readers as the graph meant them.</summary>
public sealed class ServingConfigFilesTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("graph-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Rendered_model_config_is_read_by_the_server_with_every_policy_and_label()
    {
        var models = new[]
        {
            new ServedModel("mnist", [1], new Dictionary<string, long> { ["stable"] = 1 }),
            new ServedModel("resnet18", [], new Dictionary<string, long>(), LatestVersions: 2),
            new ServedModel("pair", [3, 5], new Dictionary<string, long> { ["b"] = 5, ["a"] = 3 }),
        };
        var path = Path.Combine(_folder, "models.config");
        File.WriteAllText(path, ServingConfigFiles.ModelConfig(models, "/models"));

        var config = new ModelServerConfig();
        ModelConfigFileReader.Read(path, new ExecutionSettings(), new BatchingOptions(), config);

        Assert.Empty(config.ReadErrors);
        Assert.Equal(["mnist", "resnet18", "pair"], config.Models.Select(m => m.Name));
        Assert.Equal(["/models/mnist", "/models/resnet18", "/models/pair"], config.Models.Select(m => m.BasePath));
        Assert.Equal(ModelVersionPolicyKind.Specific, config.Models[0].VersionPolicy.Kind);
        Assert.Equal([1L], config.Models[0].VersionPolicy.Versions);
        Assert.Equal(new Dictionary<string, long> { ["stable"] = 1 }, config.Models[0].VersionLabels);
        Assert.Equal(ModelVersionPolicyKind.Latest, config.Models[1].VersionPolicy.Kind);
        Assert.Equal(2, config.Models[1].VersionPolicy.NumVersions);
        Assert.Empty(config.Models[1].VersionLabels);
        Assert.Equal([3L, 5L], config.Models[2].VersionPolicy.Versions);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 3, ["b"] = 5 }, config.Models[2].VersionLabels);
    }

    [Fact]
    public void Rendered_batching_parameters_are_read_by_the_server()
    {
        var path = Path.Combine(_folder, "batching.config");
        File.WriteAllText(path, ServingConfigFiles.BatchingParameters(new BatchingSettings(16, TimeSpan.FromMilliseconds(2.5), 50, 3)));

        var options = new BatchingOptions();
        var errors = new List<string>();
        BatchingOptionsReader.ReadFile(path, options, errors);

        Assert.Empty(errors);
        Assert.Equal(16, options.MaxBatchSize);
        Assert.Equal(2500, options.BatchTimeoutMicros);
        Assert.Equal(50, options.MaxEnqueuedBatches);
        Assert.Equal(3, options.NumBatchThreads);
    }

    [Fact]
    public void Rendering_is_deterministic()
    {
        var model = new ServedModel("m", [2], new Dictionary<string, long> { ["z"] = 2, ["y"] = 2 });
        Assert.Equal(ServingConfigFiles.ModelConfig([model], "/models/"), ServingConfigFiles.ModelConfig([model], "/models"));
        Assert.Contains("version_labels { key: \"y\" value: 2 }\n    version_labels { key: \"z\" value: 2 }", ServingConfigFiles.ModelConfig([model], "/models"), StringComparison.Ordinal);
    }
}
