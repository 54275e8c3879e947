using System.Diagnostics;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Hosting;

public sealed class GracefulShutdownTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Sigterm_flips_readiness_first_finishes_queued_and_in_flight_requests_and_exits_within_the_grace()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        // A long batch timeout keeps requests queued until the drain flushes them.
        var config = _repo.WriteConfig("models.json", """
            { "model_config_list": [ { "name": "mnist", "base_path": "mnist",
                "batching": { "max_batch_size": 64, "batch_timeout_micros": 60000000, "num_batch_threads": 1 } } ] }
            """);
        await using var server = await ServerProcess.StartAsync($"--model_config_file={config}", "--drain_delay_seconds=2", "--shutdown_grace_seconds=10");
        var rows = TestData.MnistRows(5, seed: 3);
        var queued = rows.Select(r => Json.PostAsync(server.Client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix([r]) })).ToArray();
        await Eventually.TrueAsync(async () =>
        {
            var metrics = await server.Client.GetStringAsync("/metrics");
            return metrics.Contains("servingstack_queue_depth{otel_scope_name=\"ServingStack.Inference\",model=\"mnist\",version=\"1\"} 5", StringComparison.Ordinal);
        }, "five requests to be queued");

        var stopwatch = Stopwatch.StartNew();
        server.SendSigterm();

        // Readiness flips at once, while the server still answers.
        await Eventually.TrueAsync(async () =>
        {
            using var response = await server.Client.GetAsync("/ready");
            return (int)response.StatusCode == 503;
        }, "/ready to turn 503", TimeSpan.FromSeconds(2));
        var (v2Status, v2Body, _) = await Json.GetAsync(server.Client, "/v2/health/ready");
        Assert.Equal(503, v2Status);
        Assert.False(v2Body!["ready"]!.GetValue<bool>());

        // Every queued request completes with its own result.
        var weights = MlpWeights.Create(42);
        for (var i = 0; i < queued.Length; i++)
        {
            var (status, body, text) = await queued[i];
            Assert.True(status == 200, text);
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[i]), Json.Floats(body!["predictions"]![0]));
        }

        // A request sent during the drain delay is still served.
        var late = await Json.PostAsync(server.Client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix([rows[0]]) });
        Assert.True(late.Status == 200, late.Text);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await server.WaitForExitAsync(cts.Token);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(12), $"exited after {stopwatch.Elapsed}");
        Assert.True(server.ExitCode == 0, server.Output);
        Assert.Contains("Shutting down: not ready from now", server.Output);
    }
}
