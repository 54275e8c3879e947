using System.Text.Json.Nodes;
using ServingStack.Inference.Repository;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Repository;

public sealed class ModelVersionLifecycleTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private string Config(string policy, string labels = "") => _repo.WriteConfig("models.config", $$"""
        model_config_list {
          config {
            name: "mnist"
            base_path: "mnist"
            model_platform: "onnx"
            {{policy}}
            {{labels}}
          }
        }
        """);

    private static async Task<float[]> PredictAsync(InferenceServer server, string path, float[] row)
    {
        var (status, body, text) = await Json.PostAsync(server.Client, path, new JsonObject { ["instances"] = Json.Matrix([row]) });
        Assert.True(status == 200, $"{path}: {status} {text}");
        return Json.Floats(body!["predictions"]![0]);
    }

    [Fact]
    public async Task Latest_policy_serves_only_the_newest_version_by_default()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("mnist", 2, seed: 2);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config("")}");
        var row = TestData.MnistRows(1)[0];

        TfServingPredictTests.AssertClose(MlpWeights.Create(2).Evaluate(row), await PredictAsync(server, "/v1/models/mnist:predict", row));
        var (status, body, _) = await Json.PostAsync(server.Client, "/v1/models/mnist/versions/1:predict", new JsonObject { ["instances"] = Json.Matrix([row]) });
        Assert.Equal(404, status);
        Assert.Contains("has no version 1", body!["error"]!.GetValue<string>());
        Assert.Equal([2L], server.Models.Models[0].Versions.Select(v => v.Version));
    }

    [Fact]
    public async Task Labels_and_version_numbers_choose_the_right_version()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("mnist", 2, seed: 2);
        var config = Config(
            "model_version_policy { latest { num_versions: 2 } }",
            "version_labels { key: 'stable' value: 1 } version_labels { key: 'canary' value: 2 }");
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var row = TestData.MnistRows(1, seed: 5)[0];
        var v1 = MlpWeights.Create(1).Evaluate(row);
        var v2 = MlpWeights.Create(2).Evaluate(row);

        TfServingPredictTests.AssertClose(v1, await PredictAsync(server, "/v1/models/mnist/labels/stable:predict", row));
        TfServingPredictTests.AssertClose(v2, await PredictAsync(server, "/v1/models/mnist/labels/canary:predict", row));
        TfServingPredictTests.AssertClose(v1, await PredictAsync(server, "/v1/models/mnist/versions/1:predict", row));
        TfServingPredictTests.AssertClose(v2, await PredictAsync(server, "/v1/models/mnist:predict", row));

        var (status, body, _) = await Json.GetAsync(server.Client, "/v1/models/mnist/labels/stable");
        Assert.Equal(200, status);
        var only = Assert.Single(body!["model_version_status"]!.AsArray());
        Assert.Equal("1", only!["version"]!.GetValue<string>());
        Assert.Equal("AVAILABLE", only["state"]!.GetValue<string>());

        (status, body, _) = await Json.PostAsync(server.Client, "/v1/models/mnist/labels/beta:predict", new JsonObject { ["instances"] = Json.Matrix([row]) });
        Assert.Equal(404, status);
        Assert.Contains("no version label 'beta'", body!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Specific_policy_serves_exactly_the_listed_versions()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("mnist", 2, seed: 2);
        _repo.AddMlp("mnist", 3, seed: 3);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config("model_version_policy { specific { versions: 1 versions: 2 } }")}");
        var row = TestData.MnistRows(1)[0];

        Assert.Equal([1L, 2L], server.Models.Models[0].Versions.Select(v => v.Version));
        TfServingPredictTests.AssertClose(MlpWeights.Create(2).Evaluate(row), await PredictAsync(server, "/v1/models/mnist:predict", row));
    }

    [Fact]
    public async Task A_corrupt_version_ends_with_its_error_while_the_others_serve()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("mnist", 2, seed: 2);
        _repo.AddVersion("mnist", 3, ModelFactory.CreateCorrupt());
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config("model_version_policy { all {} }")}");
        var row = TestData.MnistRows(1)[0];

        var (status, body, text) = await Json.GetAsync(server.Client, "/v1/models/mnist");
        Assert.True(status == 200, text);
        var statuses = body!["model_version_status"]!.AsArray();
        Assert.Equal(["3", "2", "1"], statuses.Select(s => s!["version"]!.GetValue<string>()));
        Assert.Equal("END", statuses[0]!["state"]!.GetValue<string>());
        Assert.Equal("UNKNOWN", statuses[0]!["status"]!["error_code"]!.GetValue<string>());
        Assert.Contains("ONNX Runtime could not load", statuses[0]!["status"]!["error_message"]!.GetValue<string>());
        Assert.Equal("AVAILABLE", statuses[1]!["state"]!.GetValue<string>());
        Assert.Equal("OK", statuses[1]!["status"]!["error_code"]!.GetValue<string>());

        // The newest AVAILABLE version answers; the failed one says why.
        TfServingPredictTests.AssertClose(MlpWeights.Create(2).Evaluate(row), await PredictAsync(server, "/v1/models/mnist:predict", row));
        (status, body, _) = await Json.PostAsync(server.Client, "/v1/models/mnist/versions/3:predict", new JsonObject { ["instances"] = Json.Matrix([row]) });
        Assert.Equal(404, status);
        Assert.Contains("version 3 of model 'mnist' is not available", body!["error"]!.GetValue<string>());
        Assert.Contains(server.Log.Entries, e => e.EventId.Name == "VersionLoadFailed");
    }

    [Fact]
    public async Task Folders_that_are_not_positive_integers_are_ignored()
    {
        _repo.AddMlp("mnist", 4, seed: 4);
        foreach (var name in new[] { "0", "latest", "v9", "12abc", ".staging" })
        {
            ModelFactory.WriteVersion(Path.Combine(_repo.ModelPath("mnist"), name), 9, ModelFactory.CreateCorrupt());
        }

        File.WriteAllText(Path.Combine(_repo.ModelPath("mnist"), "7"), "a file, not a folder");
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config("model_version_policy { all {} }")}");

        var version = Assert.Single(server.Models.Models[0].Versions);
        Assert.Equal(4, version.Version);
        Assert.Equal(ModelVersionState.Available, version.State);
    }

    [Fact]
    public async Task A_SavedModel_folder_is_reported_as_needing_conversion_to_ONNX()
    {
        var dir = Path.Combine(_repo.ModelPath("mnist"), "1");
        Directory.CreateDirectory(Path.Combine(dir, "variables"));
        File.WriteAllBytes(Path.Combine(dir, "saved_model.pb"), [8, 1]);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config("")}");

        var (_, body, _) = await Json.GetAsync(server.Client, "/v1/models/mnist");
        var message = body!["model_version_status"]![0]!["status"]!["error_message"]!.GetValue<string>();
        Assert.Contains("TensorFlow SavedModel", message);
        Assert.Contains("tf2onnx", message);
    }

    [Fact]
    public async Task Ready_is_false_until_every_model_has_an_available_version()
    {
        await using var server = await InferenceServer.StartAsync($"--model_config_file={Config("")}", "--file_system_poll_wait_seconds=1");

        using (var response = await server.Client.GetAsync("/ready"))
        {
            Assert.Equal(503, (int)response.StatusCode);
        }

        var (status, _, _) = await Json.GetAsync(server.Client, "/v2/health/ready");
        Assert.Equal(503, status);
        using (var live = await server.Client.GetAsync("/healthz"))
        {
            Assert.Equal(200, (int)live.StatusCode);
        }

        // Publish a version the way ModelSync does: complete folder, then one rename.
        var staging = Path.Combine(_repo.Root, "staging-1");
        ModelFactory.WriteVersion(staging, 1, ModelFactory.CreateMlp(MlpWeights.Create(1)));
        Directory.CreateDirectory(_repo.ModelPath("mnist"));
        Directory.Move(Path.Combine(staging, "1"), Path.Combine(_repo.ModelPath("mnist"), "1"));

        await Eventually.TrueAsync(async () =>
        {
            using var response = await server.Client.GetAsync("/ready");
            return (int)response.StatusCode == 200;
        }, "/ready to turn 200");
        (status, _, _) = await Json.GetAsync(server.Client, "/v2/health/ready");
        Assert.Equal(200, status);
    }
}
