using System.Text.Json.Nodes;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Repository;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Repository;

/// <summary>
/// tensorflow_model_server's <c>--max_num_load_retries</c> and <c>--load_retry_interval_micros</c>: a failed load is tried
/// again on a timer, not only when the files change. The fault here keeps the folder's stamp (file count, size and
/// write time) exactly as it was, so only a retry, never change detection, can load the repaired file.
/// </summary>
public sealed class LoadRetryTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void The_defaults_are_tensorflow_model_servers()
    {
        var options = new ServingOptions();
        Assert.Equal(5, options.MaxNumLoadRetries);
        Assert.Equal(60_000_000, options.LoadRetryIntervalMicros);
    }

    [Fact]
    public async Task A_version_that_fails_to_load_is_retried_after_the_interval_and_serves_once_its_file_is_good()
    {
        var (file, good) = WriteUnreadableVersion();
        // Polling off: the retry's own timer must bring the model back.
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}",
            "--file_system_poll_wait_seconds=0", "--max_num_load_retries=5", "--load_retry_interval_micros=1000000");
        var model = server.Models.Models[0];
        Assert.Equal(ModelVersionState.End, model.Find(1)!.State);
        Assert.NotNull(model.Find(1)!.Error);

        Repair(file, good);
        await Eventually.TrueAsync(() => model.Find(1)?.State == ModelVersionState.Available, "the retry to load the repaired file");

        var row = TestData.MnistRows(1, seed: 2);
        var (status, body, text) = await Json.PostAsync(server.Client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix(row) });
        Assert.True(status == 200, text);
        TfServingPredictTests.AssertClose(MlpWeights.Create(42).Evaluate(row[0]), Json.Floats(body!["predictions"]![0]));
        Assert.Contains(server.Log.Entries, e => e.EventId.Name == "VersionLoadFailed" && e.Message.Contains("(attempt 1; next try in 1 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_no_retries_a_failed_version_gives_up_until_its_files_change()
    {
        var (file, good) = WriteUnreadableVersion();
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}",
            "--file_system_poll_wait_seconds=1", "--max_num_load_retries=0", "--load_retry_interval_micros=0");
        var model = server.Models.Models[0];
        // (The failure is logged just after the version turns END.)
        await Eventually.TrueAsync(() => server.Log.Entries.Any(e => e.EventId.Name == "VersionLoadGaveUp" && e.Message.Contains("--max_num_load_retries=0", StringComparison.Ordinal)), "the load to give up");
        Assert.DoesNotContain(server.Log.Entries, e => e.EventId.Name == "VersionLoadFailed");

        // Repaired in place with the same stamp: nothing retries it. A real change (a new write time) loads it.
        Repair(file, good);
        File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddSeconds(5));
        await Eventually.TrueAsync(() => model.Find(1)?.State == ModelVersionState.Available, "the changed file to load");
        Assert.Single(server.Log.Entries, e => e.EventId.Name == "VersionLoadGaveUp");
    }

    /// <summary>Version 1 of "mnist" whose model.onnx has the good file's size but zeroed bytes: ONNX Runtime cannot parse it.</summary>
    private (string File, byte[] Good) WriteUnreadableVersion()
    {
        var good = ModelFactory.CreateMlp(MlpWeights.Create(42));
        return (_repo.AddVersion("mnist", 1, new byte[good.Length]), good);
    }

    /// <summary>Writes the good bytes over the broken ones and puts the write time back: the folder looks unchanged.</summary>
    private static void Repair(string file, byte[] good)
    {
        var written = File.GetLastWriteTimeUtc(file);
        File.WriteAllBytes(file, good);
        File.SetLastWriteTimeUtc(file, written);
    }
}
