using Grpc.Core;
using ServingStack.Tests.Fixtures;
using Tensorflow;
using Tensorflow.Serving;
using ModelConfig = Tensorflow.Serving.ModelConfig;
using ModelServerConfig = Tensorflow.Serving.ModelServerConfig;
using VersionPolicy = Tensorflow.Serving.FileSystemStoragePathSourceConfig.Types.ServableVersionPolicy;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>ModelService.HandleReloadConfigRequest: the admin key, a config that adds, changes and removes models, and a refused config.</summary>
public sealed class TfServingGrpcReloadTests : IDisposable
{
    private const string AdminKey = "reload-key-7f3a-0123456789";

    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Reload_is_PERMISSION_DENIED_when_no_admin_key_is_configured()
    {
        await using var server = await StartAsync();
        var models = new ModelService.ModelServiceClient(server.GrpcChannel);

        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(Reload(Model("mnist")), Key(AdminKey)), StatusCode.PermissionDenied,
            "HandleReloadConfigRequest is off", "Serving:AdminApiKey");
    }

    [Fact]
    public async Task Reload_is_UNAUTHENTICATED_without_the_key_or_with_a_wrong_one()
    {
        await using var server = await StartAsync($"--Serving:AdminApiKey={AdminKey}");
        var models = new ModelService.ModelServiceClient(server.GrpcChannel);

        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(Reload(Model("mnist"))), StatusCode.Unauthenticated, "needs the admin key");
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(Reload(Model("mnist")), Key("wrong")), StatusCode.Unauthenticated, "not valid");
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(Reload(Model("mnist")), new Metadata { { "authorization", "Bearer wrong" } }),
            StatusCode.Unauthenticated, "not valid");
        Assert.Equal(["mnist"], server.Models.Models.Select(m => m.Name));
    }

    [Fact]
    public async Task Reload_adds_a_model_moves_labels_and_removes_a_model_and_answers_once_the_new_model_serves()
    {
        _repo.AddMlp("second", 1, seed: 11);
        _repo.AddMlp("second", 2, seed: 12);
        await using var server = await StartAsync($"--Serving:AdminApiKey={AdminKey}");
        var models = new ModelService.ModelServiceClient(server.GrpcChannel);
        var prediction = new PredictionService.PredictionServiceClient(server.GrpcChannel);

        var second = Model("second");
        second.ModelVersionPolicy = new VersionPolicy { All = new VersionPolicy.Types.All() };
        second.VersionLabels.Add("stable", 1);
        var response = await models.HandleReloadConfigRequestAsync(Reload(Model("mnist"), second), new Metadata { { "authorization", $"Bearer {AdminKey}" } });
        Assert.Equal(Tensorflow.Error.Code.Ok, response.Status.ErrorCode);

        // Answered only once the added model serves: this Predict needs no waiting.
        var rows = TestData.MnistRows(1, seed: 3);
        var stable = await prediction.PredictAsync(Predict(new ModelSpec { Name = "second", VersionLabel = "stable" }, rows));
        Assert.Equal(1L, stable.ModelSpec.Version);
        TfServingGrpcPredictTests.AssertMatchesReference(11, rows, stable.Outputs["probabilities"].FloatVal.ToArray());

        // The label moves to version 2, and mnist is left out: it unloads.
        second.VersionLabels["stable"] = 2;
        await models.HandleReloadConfigRequestAsync(Reload(second), Key(AdminKey));
        Assert.Equal(["second"], server.Models.Models.Select(m => m.Name));
        await RpcAssert.FailsAsync(prediction.PredictAsync(Predict(new ModelSpec { Name = "mnist" }, rows)), StatusCode.NotFound, "'mnist' is not served");
        await Eventually.TrueAsync(async () =>
            (await prediction.PredictAsync(Predict(new ModelSpec { Name = "second", VersionLabel = "stable" }, rows))).ModelSpec.Version == 2, "the label to move to version 2");
    }

    [Fact]
    public async Task Reload_of_an_invalid_config_is_INVALID_ARGUMENT_listing_every_problem_and_changes_nothing()
    {
        await using var server = await StartAsync($"--Serving:AdminApiKey={AdminKey}");
        var models = new ModelService.ModelServiceClient(server.GrpcChannel);

        var badName = Model("bad name!");
        var badPolicy = Model("other");
        badPolicy.ModelVersionPolicy = new VersionPolicy { Specific = new VersionPolicy.Types.Specific { Versions = { -3 } } };
        var noPath = new ModelConfig { Name = "nopath" };
        var ex = await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(Reload(badName, badPolicy, noPath), Key(AdminKey)), StatusCode.InvalidArgument,
            "not applied", "'bad name!'", "[A-Za-z0-9_.-]+", "version -3", "'base_path' is required");

        var custom = new ReloadConfigRequest { Config = new ModelServerConfig { CustomModelConfig = new Google.Protobuf.WellKnownTypes.Any() } };
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(custom, Key(AdminKey)), StatusCode.InvalidArgument, "Only ModelConfigList is currently supported");
        await RpcAssert.FailsAsync(models.HandleReloadConfigRequestAsync(new ReloadConfigRequest(), Key(AdminKey)), StatusCode.InvalidArgument, "Only ModelConfigList");

        Assert.Equal(["mnist"], server.Models.Models.Select(m => m.Name));
        Assert.DoesNotContain(server.Log.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    private async Task<InferenceServer> StartAsync(params string[] args)
    {
        _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        var config = _repo.WriteConfig("models.json", """{ "model_config_list": [ { "name": "mnist", "base_path": "mnist" } ] }""");
        return await InferenceServer.StartReadyAsync([$"--model_config_file={config}", .. args]);
    }

    private ModelConfig Model(string name) => new() { Name = name, BasePath = _repo.ModelPath(name), ModelPlatform = "tensorflow" };

    private static ReloadConfigRequest Reload(params ModelConfig[] models)
    {
        var list = new ModelConfigList();
        list.Config.Add(models);
        return new ReloadConfigRequest { Config = new ModelServerConfig { ModelConfigList = list } };
    }

    private static Metadata Key(string key) => new() { { "x-admin-key", key } };

    private static PredictRequest Predict(ModelSpec spec, float[][] rows)
    {
        var request = new PredictRequest { ModelSpec = spec };
        request.Inputs.Add("x", TfTensors.Content(DataType.DtFloat, rows.SelectMany(r => r).ToArray(), rows.Length, MlpWeights.InputSize));
        return request;
    }
}
