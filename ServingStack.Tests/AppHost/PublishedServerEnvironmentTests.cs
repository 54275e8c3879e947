using System.Text.Json.Nodes;
using ServingStack.AppHost.Hosting;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.AppHost;

/// <summary>
/// A published server needs no file: the model config and batching the AppHost writes into its environment, and the
/// sync source it copies from at start, are read by the real server process.
/// </summary>
public sealed class PublishedServerEnvironmentTests
{
    [Fact]
    public async Task Server_fetches_its_models_at_start_and_serves_the_environments_versions_labels_and_batching()
    {
        using var source = new TempModelRepository();
        source.AddMlp("mnist", 1, seed: 42);
        source.AddMlp("mnist", 2, seed: 43);
        source.AddMlp("digits", 3, seed: 44);
        source.AddMlp("digits", 4, seed: 45);
        using var target = new TempModelRepository();
        var store = Path.Combine(target.Root, "models");
        ServedModel[] models =
        [
            new("mnist", [1], new Dictionary<string, long> { ["stable"] = 1 }),
            new("digits", [], new Dictionary<string, long>(), LatestVersions: 2),
        ];
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [InferenceServiceResourceExtensions.StartupSyncSource] = source.Root,
            [InferenceServiceResourceExtensions.StartupSyncTarget] = store,
        };
        foreach (var (key, value) in ServingConfigFiles.ModelConfigEnvironment(models, store)
            .Concat(ServingConfigFiles.BatchingEnvironment(new BatchingSettings(8, TimeSpan.FromMilliseconds(3), 5, 1))))
        {
            environment[key] = value;
        }

        await using var server = await ServerProcess.StartAsync(environment, "--enable_batching=true");

        // The pass at start published complete versions before the server loaded them.
        Assert.True(File.Exists(Path.Combine(store, "mnist", "2", "model.onnx")), server.Output);
        Assert.Contains("model sync: complete", server.Output, StringComparison.Ordinal);
        Assert.Equal(["1"], await VersionsAsync(server, "mnist"));
        Assert.Equal(["3", "4"], (await VersionsAsync(server, "digits")).Order(StringComparer.Ordinal));

        var rows = TestData.MnistRows(2, seed: 3);
        var (status, body, text) = await Json.PostAsync(server.Client, "/v1/models/mnist/labels/stable:predict", new JsonObject { ["instances"] = Json.Matrix(rows) });
        Assert.True(status == 200, text);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(MlpWeights.Create(42).Evaluate(rows[r]), Json.Floats(body!["predictions"]![r]));
        }

        // The batching parameters came from the environment: 9 rows run as batches of at most max_batch_size = 8 (the
        // default, 32, would run them as one batch of 9).
        (status, _, text) = await Json.PostAsync(server.Client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(9, seed: 4)) });
        Assert.True(status == 200, text);
        var metrics = (await server.Client.GetStringAsync("/metrics")).Split('\n');
        long Series(string prefix) => metrics.Where(l => l.StartsWith(prefix, StringComparison.Ordinal) && l.Contains("model=\"mnist\"", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Sum();
        var batches = Series("servingstack_batch_rows_count{");
        Assert.True(batches >= 3, $"{batches} batches for a 2-row and a 9-row request");
        Assert.Equal(batches, metrics.Where(l => l.StartsWith("servingstack_batch_rows_bucket{", StringComparison.Ordinal) && l.Contains("le=\"8\"", StringComparison.Ordinal))
            .Where(l => l.Contains("model=\"mnist\"", StringComparison.Ordinal)).Sum(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Server_exits_without_serving_when_its_pass_at_start_is_incomplete()
    {
        using var target = new TempModelRepository();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [InferenceServiceResourceExtensions.StartupSyncSource] = Path.Combine(target.Root, "no-such-source"),
            [InferenceServiceResourceExtensions.StartupSyncTarget] = Path.Combine(target.Root, "models"),
            ["Serving__ModelConfigList__0__name"] = "mnist",
            ["Serving__ModelConfigList__0__base_path"] = Path.Combine(target.Root, "models", "mnist"),
        };

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(environment));

        Assert.Matches("the server exited with [12]:", failure.Message);
        Assert.Contains("model sync:", failure.Message, StringComparison.Ordinal);
    }

    private static async Task<List<string>> VersionsAsync(ServerProcess server, string model)
    {
        var (status, body, text) = await Json.GetAsync(server.Client, $"/v1/models/{model}");
        Assert.True(status == 200, text);
        return [.. body!["model_version_status"]!.AsArray().Where(s => s!["state"]!.GetValue<string>() == "AVAILABLE").Select(s => s!["version"]!.GetValue<string>())];
    }
}
