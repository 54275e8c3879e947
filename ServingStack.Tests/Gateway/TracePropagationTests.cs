using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>One trace from the caller through the gateway and the server to the batch that ran the request.</summary>
public sealed class TracePropagationTests : IDisposable
{
    private readonly TempModelRepository _repo = new();
    private readonly string _model = "traced_" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task A_request_through_the_gateway_is_one_trace_down_to_its_batch_span()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "ServingStack.Inference" or "Microsoft.AspNetCore" or "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        _repo.AddVersion(_model, 1, ModelFactory.CreateMlp(MlpWeights.Create(42)));
        var config = _repo.WriteConfig("models.json", $$"""
            { "model_config_list": [ { "name": "{{_model}}", "base_path": "{{_model}}", "batching": { "max_batch_size": 4, "batch_timeout_micros": 1000 } } ] }
            """);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:all:ClusterId"] = "inference",
            ["ReverseProxy:Routes:all:Match:Path"] = "{**catch-all}",
            ["ReverseProxy:Clusters:inference:Destinations:a:Address"] = server.Address.ToString(),
        });

        var trace = ActivityTraceId.CreateRandom();
        using (new Activity("caller").SetParentId(trace, ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded).Start())
        {
            var body = new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(1)) }.ToJsonString();
            using var response = await gateway.Client.PostAsync($"/v1/models/{_model}:predict", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        await Eventually.TrueAsync(() => spans.Any(IsOurBatch), "the batch span stopped");
        var batch = Assert.Single(spans, IsOurBatch);
        Assert.Equal(trace, batch.TraceId);
        // batch ← server request span ← gateway's forwarding client span ← gateway request span, all in the caller's trace.
        var serverSpan = Assert.Single(spans, s => s.SpanId == batch.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", serverSpan.Source.Name);
        var forward = Assert.Single(spans, s => s.SpanId == serverSpan.ParentSpanId);
        Assert.Equal("System.Net.Http", forward.Source.Name);
        Assert.Equal(ActivityKind.Client, forward.Kind);
        var gatewaySpan = Assert.Single(spans, s => s.SpanId == forward.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", gatewaySpan.Source.Name);
        Assert.All(new[] { serverSpan, forward, gatewaySpan }, s => Assert.Equal(trace, s.TraceId));

        bool IsOurBatch(Activity span) =>
            span.Source.Name == "ServingStack.Inference" && span.OperationName == "batch" && (string?)span.GetTagItem("model") == _model;
    }
}
