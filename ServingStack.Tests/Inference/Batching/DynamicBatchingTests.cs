using System.Net;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using System.Text;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Batching;

/// <summary>The dynamic batcher behind the REST APIs, observed through the server's own metrics.</summary>
public sealed class DynamicBatchingTests : IDisposable
{
    private const string BatchSize = "servingstack.batch.size";
    private const string BatchRows = "servingstack.batch.rows";
    private readonly TempModelRepository _repo = new();
    private readonly string _model = "mnist_" + Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => _repo.Dispose();

    private async Task<InferenceServer> StartAsync(string batching, byte[]? model = null)
    {
        _repo.AddVersion(_model, 1, model ?? ModelFactory.CreateMlp(MlpWeights.Create(42)));
        var config = _repo.WriteConfig("models.json", $$"""
            { "model_config_list": [ { "name": "{{_model}}", "base_path": "{{_model}}", "batching": {{batching}} } ] }
            """);
        var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        Assert.NotNull(server.Models.Models[0].Versions[0].Batcher);
        return server;
    }

    private static JsonObject V2Request(float[][] rows) => new()
    {
        ["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "x",
            ["shape"] = new JsonArray(rows.Length, MlpWeights.InputSize),
            ["datatype"] = "FP32",
            ["data"] = Json.Matrix(rows),
        }),
    };

    private async Task<(int Status, JsonNode? Body, string Text)> InferAsync(InferenceServer server, float[][] rows, int? timeoutMs = null, CancellationToken cancellationToken = default)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{_model}/infer")
        {
            Content = new StringContent(V2Request(rows).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (timeoutMs is { } ms)
        {
            message.Headers.Add("X-Request-Timeout-Ms", ms.ToString());
        }

        using var response = await server.Client.SendAsync(message, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return ((int)response.StatusCode, JsonNode.Parse(text), text);
    }

    private static void AssertRows(float[][] rows, JsonNode? body)
    {
        var output = body!["outputs"]![0]!;
        Assert.Equal([rows.Length, MlpWeights.OutputSize], output["shape"]!.AsArray().Select(d => d!.GetValue<int>()));
        var data = Json.Floats(output["data"]);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), data.AsSpan(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
        }
    }

    [Fact]
    public async Task Batch_span_joins_a_callers_trace_and_links_every_other_request()
    {
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name is "ServingStack.Inference" or "Microsoft.AspNetCore",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        // A long timeout and a batch of exactly the four requests: they run as one batch.
        await using var server = await StartAsync("""{ "max_batch_size": 4, "batch_timeout_micros": 2000000, "num_batch_threads": 1 }""");
        var traces = Enumerable.Range(0, 4).Select(_ => System.Diagnostics.ActivityTraceId.CreateRandom()).ToArray();

        var responses = await Task.WhenAll(traces.Select(async trace =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{_model}/infer")
            {
                Content = new StringContent(V2Request(TestData.MnistRows(1)).ToJsonString(), Encoding.UTF8, "application/json"),
            };
            // The caller's span: HttpClient sends its trace on (as a client of the in-process servers' tracing would).
            using var caller = new System.Diagnostics.Activity("caller")
                .SetParentId(trace, System.Diagnostics.ActivitySpanId.CreateRandom(), System.Diagnostics.ActivityTraceFlags.Recorded)
                .Start();
            using var response = await server.Client.SendAsync(message);
            return response.StatusCode;
        }));
        Assert.All(responses, status => Assert.Equal(HttpStatusCode.OK, status));

        await Eventually.TrueAsync(() => spans.Any(IsOurBatch), "the batch span stopped");
        var batch = Assert.Single(spans, IsOurBatch);
        Assert.Equal(4, batch.GetTagItem("batch.requests"));
        Assert.Equal("1", batch.GetTagItem("version"));
        Assert.Contains(batch.TraceId, traces);
        // Its parent is the server span of that request, which continues the caller's trace.
        var parent = Assert.Single(spans, s => s.Source.Name == "Microsoft.AspNetCore" && s.SpanId == batch.ParentSpanId);
        Assert.Equal(batch.TraceId, parent.TraceId);
        var linked = batch.Links.Select(l => l.Context.TraceId.ToHexString()).Order(StringComparer.Ordinal);
        Assert.Equal(traces.Where(t => t != batch.TraceId).Select(t => t.ToHexString()).Order(StringComparer.Ordinal), linked);

        bool IsOurBatch(System.Diagnostics.Activity span) =>
            span.Source.Name == "ServingStack.Inference" && span.OperationName == "batch" && (string?)span.GetTagItem("model") == _model;
    }

    [Fact]
    public async Task Concurrent_requests_each_get_their_own_rows_back()
    {
        using var metrics = new MetricsRecorder(_model);
        await using var server = await StartAsync("""{ "max_batch_size": 8, "batch_timeout_micros": 5000, "num_batch_threads": 2, "allowed_batch_sizes": [2, 4, 8] }""");
        var requests = Enumerable.Range(0, 48).Select(i => TestData.MnistRows(1 + i % 3, seed: 100 + i)).ToArray();

        var responses = await Task.WhenAll(requests.Select(rows => InferAsync(server, rows)));

        for (var i = 0; i < requests.Length; i++)
        {
            Assert.True(responses[i].Status == 200, responses[i].Text);
            AssertRows(requests[i], responses[i].Body);
        }

        Assert.All(metrics.Values(BatchSize), size => Assert.Contains(size, new double[] { 2, 4, 8 }));
        Assert.All(metrics.Values(BatchRows), rows => Assert.InRange(rows, 1, 8));
        Assert.Equal(requests.Sum(r => r.Length), metrics.Values(BatchRows).Sum());
    }

    [Fact]
    public async Task A_full_batch_is_sent_at_once_and_a_partial_one_is_padded_to_an_allowed_size()
    {
        using var metrics = new MetricsRecorder(_model);
        // The timeout is long: only a full batch can explain a fast answer.
        await using var server = await StartAsync("""{ "max_batch_size": 4, "batch_timeout_micros": 60000000, "num_batch_threads": 1, "allowed_batch_sizes": [2, 4] }""");

        var full = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => InferAsync(server, TestData.MnistRows(1, seed: i))));
        Assert.All(full, r => Assert.Equal(200, r.Status));
        Assert.Equal([4.0], metrics.Values(BatchRows));
        Assert.Equal([4.0], metrics.Values(BatchSize));

        // Three rows fill a batch of 4 only with a fourth; pad happens when 3 rows + 1 row arrive as separate requests.
        var three = TestData.MnistRows(3, seed: 9);
        var one = TestData.MnistRows(1, seed: 10);
        var results = await Task.WhenAll(InferAsync(server, three), InferAsync(server, one));
        AssertRows(three, results[0].Body);
        AssertRows(one, results[1].Body);
        Assert.Equal([4.0, 4.0], metrics.Values(BatchRows));
    }

    [Fact]
    public async Task Padding_rows_are_dropped_from_every_result()
    {
        using var metrics = new MetricsRecorder(_model);
        await using var server = await StartAsync("""{ "max_batch_size": 8, "batch_timeout_micros": 0, "num_batch_threads": 1, "allowed_batch_sizes": [8] }""");
        var rows = TestData.MnistRows(3, seed: 21);

        var (status, body, text) = await InferAsync(server, rows);

        Assert.True(status == 200, text);
        AssertRows(rows, body);
        Assert.Equal([3.0], metrics.Values(BatchRows));
        Assert.Equal([8.0], metrics.Values(BatchSize));
    }

    [Fact]
    public async Task A_full_queue_answers_429_with_Retry_After_at_once_and_the_server_keeps_serving()
    {
        await using var server = await StartAsync("""{ "max_batch_size": 4, "max_enqueued_batches": 1, "batch_timeout_micros": 60000000, "num_batch_threads": 1 }""");
        var waiting = TestData.MnistRows(3, seed: 1);
        var pending = InferAsync(server, waiting);
        await Eventually.TrueAsync(() => server.Models.Models[0].Versions[0].Batcher!.QueuedRows == 3, "the first request to be queued");

        using var overflow = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{_model}/infer")
        {
            Content = new StringContent(V2Request(TestData.MnistRows(2, seed: 2)).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        using var rejected = await server.Client.SendAsync(overflow);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.NotNull(rejected.Headers.RetryAfter);
        Assert.Contains("batch queue", JsonNode.Parse(await rejected.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());

        // One more row fills the batch: both queued requests run and get their own rows.
        var filler = TestData.MnistRows(1, seed: 3);
        var (status, body, text) = await InferAsync(server, filler);
        Assert.True(status == 200, text);
        AssertRows(filler, body);
        var first = await pending;
        Assert.True(first.Status == 200, first.Text);
        AssertRows(waiting, first.Body);
    }

    [Fact]
    public async Task A_request_whose_deadline_passes_in_the_queue_gets_504_and_never_runs()
    {
        using var metrics = new MetricsRecorder(_model);
        await using var server = await StartAsync("""{ "max_batch_size": 8, "batch_timeout_micros": 60000000, "num_batch_threads": 1 }""");

        var (status, body, _) = await InferAsync(server, TestData.MnistRows(1, seed: 5), timeoutMs: 100);
        Assert.Equal(504, status);
        Assert.Contains("was not run", body!["error"]!.GetValue<string>());

        // A full batch behind it runs without the expired row.
        var rows = TestData.MnistRows(8, seed: 6);
        var ok = await InferAsync(server, rows);
        Assert.True(ok.Status == 200, ok.Text);
        AssertRows(rows, ok.Body);
        Assert.Equal([8.0], metrics.Values(BatchRows));
        await Eventually.TrueAsync(() => metrics.Count("servingstack.requests", "status", "DEADLINE_EXCEEDED") == 1, "the expired request to be counted");
    }

    [Fact]
    public async Task A_cancelled_request_leaves_the_queue_without_running()
    {
        using var metrics = new MetricsRecorder(_model);
        await using var server = await StartAsync("""{ "max_batch_size": 8, "batch_timeout_micros": 60000000, "num_batch_threads": 1 }""");
        using var cts = new CancellationTokenSource();
        var cancelled = InferAsync(server, TestData.MnistRows(1, seed: 7), cancellationToken: cts.Token);
        await Eventually.TrueAsync(() => server.Models.Models[0].Versions[0].Batcher!.QueuedRows == 1, "the request to be queued");

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await Eventually.TrueAsync(() => metrics.Count("servingstack.requests", "status", "CANCELLED") == 1, "the server to see the cancellation");

        var rows = TestData.MnistRows(8, seed: 8);
        var ok = await InferAsync(server, rows);
        Assert.True(ok.Status == 200, ok.Text);
        AssertRows(rows, ok.Body);
        Assert.Equal([8.0], metrics.Values(BatchRows));
    }

    [Fact]
    public async Task Requests_of_different_shapes_never_share_a_batch()
    {
        using var metrics = new MetricsRecorder(_model);
        await using var server = await StartAsync("""{ "max_batch_size": 4, "batch_timeout_micros": 200000, "num_batch_threads": 1 }""", ModelFactory.CreateVariableWidthIdentity());

        async Task<float[]> Send(int width, float value)
        {
            var request = new JsonObject
            {
                ["inputs"] = new JsonArray(new JsonObject
                {
                    ["name"] = "x", ["shape"] = new JsonArray(1, width), ["datatype"] = "FP32",
                    ["data"] = new JsonArray(Enumerable.Repeat(value, width).Select(v => (JsonNode)v).ToArray()),
                }),
            };
            var (status, body, text) = await Json.PostAsync(server.Client, $"/v2/models/{_model}/infer", request);
            Assert.True(status == 200, text);
            Assert.Equal([1, width], body!["outputs"]![0]!["shape"]!.AsArray().Select(d => d!.GetValue<int>()));
            return Json.Floats(body["outputs"]![0]!["data"]);
        }

        var results = await Task.WhenAll(Send(2, 1), Send(3, 2), Send(2, 3), Send(3, 4));

        Assert.Equal(new float[] { 1, 1 }, results[0]);
        Assert.Equal(new float[] { 2, 2, 2 }, results[1]);
        Assert.Equal(new float[] { 3, 3 }, results[2]);
        Assert.Equal(new float[] { 4, 4, 4 }, results[3]);
        // Four single-row requests of two widths: no batch may hold more than the two of one width.
        Assert.All(metrics.Values(BatchRows), rows => Assert.InRange(rows, 1, 2));
        Assert.Equal(4, metrics.Values(BatchRows).Sum());
    }

    [Fact]
    public async Task A_request_larger_than_max_batch_size_is_split_and_reassembled_in_order()
    {
        using var metrics = new MetricsRecorder(_model);
        await using var server = await StartAsync("""{ "max_batch_size": 4, "batch_timeout_micros": 0, "num_batch_threads": 2 }""");
        var rows = TestData.MnistRows(10, seed: 12);

        var (status, body, text) = await InferAsync(server, rows);

        Assert.True(status == 200, text);
        AssertRows(rows, body);
        Assert.Equal([2.0, 4.0, 4.0], metrics.Values(BatchRows).Order());
    }

    [Fact]
    public async Task Without_splitting_a_request_larger_than_max_batch_size_is_refused()
    {
        await using var server = await StartAsync("""{ "max_batch_size": 4, "enable_large_batch_splitting": false }""");

        var (status, body, _) = await InferAsync(server, TestData.MnistRows(5));

        Assert.Equal(400, status);
        Assert.Contains("max_batch_size = 4", body!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_split_request_larger_than_the_whole_queue_is_refused_as_never_fitting_and_one_that_fills_it_runs()
    {
        // Capacity max_enqueued_batches × max_batch_size = 16 rows, on an idle server.
        await using var server = await StartAsync("""{ "max_batch_size": 8, "max_enqueued_batches": 2, "batch_timeout_micros": 0 }""");

        var (status, body, text) = await InferAsync(server, TestData.MnistRows(17, seed: 3));
        TfServingBadInputTests.AssertError(status, body, text, 400, "17 rows", "= 16 rows", "can never be queued");

        var rows = TestData.MnistRows(16, seed: 4);
        (status, body, text) = await InferAsync(server, rows);
        Assert.True(status == 200, text);
        AssertRows(rows, body);
    }

    [Fact]
    public async Task Batching_is_off_unless_configured_and_the_flag_turns_it_on_for_every_model()
    {
        _repo.AddMlp("plain", 1, seed: 1);
        await using (var off = await InferenceServer.StartReadyAsync("--model_name=plain", $"--model_base_path={_repo.ModelPath("plain")}"))
        {
            Assert.Null(off.Models.Models[0].Versions[0].Batcher);
        }

        var parameters = _repo.WriteConfig("batching.config", "max_batch_size { value: 16 } batch_timeout_micros { value: 500 } allowed_batch_sizes: 8 allowed_batch_sizes: 16");
        await using var on = await InferenceServer.StartReadyAsync("--model_name=plain", $"--model_base_path={_repo.ModelPath("plain")}",
            "--enable_batching=true", $"--batching_parameters_file={parameters}");
        var batcher = on.Models.Models[0].Versions[0].Batcher;
        Assert.NotNull(batcher);
        Assert.Equal(16, batcher.Options.MaxBatchSize);
        Assert.Equal(500, batcher.Options.BatchTimeoutMicros);
        Assert.Equal([8, 16], batcher.Options.AllowedBatchSizes);
    }

    private ModelInferRequest GrpcRequest(float[][] rows)
    {
        var request = new ModelInferRequest { ModelName = _model };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32" };
        input.Shape.Add([rows.Length, MlpWeights.InputSize]);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(rows.SelectMany(r => r).ToArray().AsSpan())));
        return request;
    }

    [Fact]
    public async Task Over_gRPC_a_full_queue_is_RESOURCE_EXHAUSTED_and_a_passed_deadline_is_DEADLINE_EXCEEDED_without_running()
    {
        using var metrics = new MetricsRecorder(_model);
        await using var server = await StartAsync("""{ "max_batch_size": 4, "max_enqueued_batches": 1, "batch_timeout_micros": 60000000, "num_batch_threads": 1 }""");
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel);

        var expired = await Assert.ThrowsAsync<RpcException>(() =>
            client.ModelInferAsync(GrpcRequest(TestData.MnistRows(1, seed: 1)), deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync);
        Assert.Equal(StatusCode.DeadlineExceeded, expired.StatusCode);

        var waiting = TestData.MnistRows(3, seed: 2);
        var pending = client.ModelInferAsync(GrpcRequest(waiting)).ResponseAsync;
        await Eventually.TrueAsync(() => server.Models.Models[0].Versions[0].Batcher!.QueuedRows == 3, "the request to be queued");
        var full = await Assert.ThrowsAsync<RpcException>(() => client.ModelInferAsync(GrpcRequest(TestData.MnistRows(2, seed: 3))).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        Assert.Contains("batch queue", full.Status.Detail);

        var filler = TestData.MnistRows(1, seed: 4);
        var fillerResponse = await client.ModelInferAsync(GrpcRequest(filler));
        var pendingResponse = await pending;
        var weights = MlpWeights.Create(42);
        foreach (var (rows, response) in new[] { (filler, fillerResponse), (waiting, pendingResponse) })
        {
            var data = MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray();
            for (var r = 0; r < rows.Length; r++)
            {
                TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), data.AsSpan(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
            }
        }

        // Only the 3 + 1 rows ran: the expired request never did.
        Assert.Equal([4.0], metrics.Values(BatchRows));
    }
}
