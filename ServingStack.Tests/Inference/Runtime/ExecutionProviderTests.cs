using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Runtime;

public sealed class ExecutionProviderTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private static bool HasNvidiaGpu => File.Exists("/dev/nvidia0");

    [Fact]
    public async Task Cuda_is_tried_and_the_provider_in_use_is_reported_with_any_fallback()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        await using var server = await InferenceServer.StartReadyAsync(
            "--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}", "--execution_provider=cuda");

        var (status, v2, text) = await Json.GetAsync(server.Client, "/v2/models/mnist");
        Assert.True(status == 200, text);
        var parameters = v2!["parameters"]!;
        Assert.Equal("cuda", parameters["requested_execution_provider"]!.GetValue<string>());

        var (_, tf, _) = await Json.GetAsync(server.Client, "/v1/models/mnist/metadata");
        // A google.protobuf.Struct packed in an Any: its fields sit under "value".
        var execution = tf!["metadata"]!["execution"]!["value"]!;
        Assert.Equal("cuda", execution["requested_provider"]!.GetValue<string>());

        if (HasNvidiaGpu)
        {
            Assert.Equal("CUDA", parameters["execution_provider"]!.GetValue<string>());
            Assert.Null(parameters["execution_provider_fallback_reason"]);
        }
        else
        {
            // No GPU here (CI): the fallback must be visible in both APIs and in the log.
            Assert.Equal("CPU", parameters["execution_provider"]!.GetValue<string>());
            Assert.Contains("CUDA", parameters["execution_provider_fallback_reason"]!.GetValue<string>());
            Assert.Equal("CPU", execution["provider"]!.GetValue<string>());
            Assert.Contains("CUDA", execution["fallback_reason"]!.GetValue<string>());
            Assert.Contains(server.Log.Entries, e => e.EventId.Id == 100 && e.Message.Contains("runs on CPU"));
        }
    }

    [Fact]
    public async Task Cpu_provider_reports_cpu_without_a_fallback()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");

        var (_, v2, _) = await Json.GetAsync(server.Client, "/v2/models/mnist");
        Assert.Equal("CPU", v2!["parameters"]!["execution_provider"]!.GetValue<string>());
        Assert.Null(v2["parameters"]!["execution_provider_fallback_reason"]);
        Assert.DoesNotContain(server.Log.Entries, e => e.EventId.Id == 100);
    }
}
