using ServingStack.Inference.Repository;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Hosting;

/// <summary>tensorflow_model_server flags whose effect shows in process: thread counts and serial loading.</summary>
public sealed class ServerFlagsTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Intra_and_inter_op_parallelism_set_the_sessions_thread_counts_and_zero_load_threads_load_versions_one_at_a_time()
    {
        _repo.AddMlp("a", 1, seed: 1);
        _repo.AddMlp("b", 1, seed: 2);
        var config = _repo.WriteConfig("models.json", """{ "model_config_list": [ { "name": "a", "base_path": "a" }, { "name": "b", "base_path": "b" } ] }""");

        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}",
            "--tensorflow_intra_op_parallelism=3", "--tensorflow_inter_op_parallelism=2", "--num_load_threads=0");

        Assert.All(server.Models.Models, m => Assert.Equal(ModelVersionState.Available, m.Find(1)!.State));
        foreach (var model in new[] { "a", "b" })
        {
            Assert.Contains(server.Log.Entries, e => e.EventId.Name == "SessionOptions" &&
                e.Message.StartsWith($"Model {model} version 1: ONNX Runtime session with intra-op threads 3, inter-op threads 2 ", StringComparison.Ordinal));
        }

        // One load slot (tensorflow_model_server's 0: serial loading): each load ends before the next begins.
        var loads = server.Log.Entries.Where(e => e.EventId.Name is "VersionLoading" or "VersionAvailable").Select(e => e.EventId.Name).ToList();
        Assert.Equal(["VersionLoading", "VersionAvailable", "VersionLoading", "VersionAvailable"], loads);
    }
}
