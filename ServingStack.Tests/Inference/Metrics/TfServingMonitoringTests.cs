using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Metrics;

/// <summary>
/// <c>--monitoring_config_file</c> end to end: a real server with a TF Serving monitoring config, real predictions over
/// REST and gRPC, and the page scraped at the configured path, checked series by series.
/// </summary>
public sealed class TfServingMonitoringTests : IDisposable
{
    private const string DefaultPath = "/monitoring/prometheus/metrics";

    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Configured_path_serves_TF_Servings_series_for_predictions_that_succeed_and_fail()
    {
        // Our own /metrics shares its meter with the other servers in this process, so the model's name is this test's own.
        var model = "tfmon_" + Guid.NewGuid().ToString("N")[..8];
        var modelFile = _repo.AddMlp(model, 1, seed: 3);
        _repo.AddVersion("broken", 1, "not an onnx model"u8.ToArray());
        var config = _repo.WriteConfig("models.json", $$"""
            { "model_config_list": [
                { "name": "{{model}}", "base_path": "{{model}}", "batching": { "max_batch_size": 4, "allowed_batch_sizes": [2, 4] } },
                { "name": "broken", "base_path": "broken" } ] }
            """);
        var monitoring = _repo.WriteConfig("monitoring.config", """
            # TF Serving's own file, unchanged.
            prometheus_config {
              enable: true,
              path: "/tf/prometheus"
            }
            """);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}", $"--monitoring_config_file={monitoring}");

        var rows = TestData.MnistRows(1);
        var instances = new JsonObject { ["instances"] = Json.Matrix(rows) };
        Assert.Equal(200, (await Json.PostAsync(server.Client, $"/v1/models/{model}:predict", instances)).Status);
        Assert.Equal(200, (await Json.PostAsync(server.Client, $"/v1/models/{model}/versions/1:predict", instances)).Status);
        Assert.Equal(400, (await Json.PostAsync(server.Client, $"/v1/models/{model}:predict", "{}")).Status);
        Assert.Equal(404, (await Json.PostAsync(server.Client, "/v1/models/nope:predict", instances)).Status);
        var v2 = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "x", ["shape"] = new JsonArray(1, 784), ["datatype"] = "FP32", ["data"] = Json.Matrix(rows) }),
        };
        Assert.Equal(200, (await Json.PostAsync(server.Client, $"/v2/models/{model}/infer", v2)).Status);
        var grpc = new ModelInferRequest { ModelName = model };
        var input = new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32", Contents = new InferTensorContents() };
        input.Shape.AddRange(new long[] { 1, 784 });
        input.Contents.Fp32Contents.Add(rows[0]);
        grpc.Inputs.Add(input);
        await new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel).ModelInferAsync(grpc);

        // Requests are counted as their handlers finish, which can be just after the client has its response.
        var text = "";
        await Eventually.TrueAsync(async () =>
        {
            text = await server.Client.GetStringAsync("/tf/prometheus");
            return PrometheusPage.Parse(text).Find(":tensorflow:serving:request_count").Sum(s => s.Value) == 6;
        }, "the six requests to be counted");
        var response = await server.Client.GetAsync("/tf/prometheus");
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var (exitCode, output) = await PromTool.CheckMetricsAsync(text);
        TfServingMetricsTests.AssertOnlyNamingRemarks(exitCode, output);

        var page = PrometheusPage.Parse(text);
        Assert.Equal(
            [
                (":tensorflow:cc:saved_model:load_attempt_count", "counter"),
                (":tensorflow:cc:saved_model:load_latency", "counter"),
                (":tensorflow:serving:batching_session:input_batch_size", "histogram"),
                (":tensorflow:serving:batching_session:padding_size", "histogram"),
                (":tensorflow:serving:batching_session:processed_batch_size", "histogram"),
                (":tensorflow:serving:batching_session:queuing_latency", "histogram"),
                (":tensorflow:serving:batching_session:wrapped_run_count", "counter"),
                (":tensorflow:serving:request_count", "counter"),
                (":tensorflow:serving:request_latency", "histogram"),
                (":tensorflow:serving:runtime_latency", "histogram"),
            ],
            page.Types.Select(t => (t.Key, t.Value)));

        // Every request is counted by TF's status name; the unknown model's name stays out of the labels.
        Assert.Equal(
            [("", "NOT_FOUND", 1d), (model, "INVALID_ARGUMENT", 1d), (model, "OK", 4d)],
            page.Find(":tensorflow:serving:request_count").Select(s => (s.Labels["model_name"], s.Labels["status"], s.Value)));

        // Latency of the successful ones only, by API and entrypoint; each histogram whole and consistent.
        Assert.Equal(
            [(model, "ModelInfer", "GRPC", 1d), (model, "infer", "REST", 1d), (model, "predict", "REST", 2d)],
            page.Find(":tensorflow:serving:request_latency_count").Select(s => (s.Labels["model_name"], s.Labels["API"], s.Labels["entrypoint"], s.Value)));
        AssertHistogram(page, ":tensorflow:serving:request_latency", TfServingMetricsTests.LatencyLimits, ("model_name", model), ("API", "predict"), ("entrypoint", "REST"));

        // Four inputs reached ONNX Runtime, each its own batch (sent one after another): one row padded to two.
        Assert.Equal(4, page.Value(":tensorflow:serving:runtime_latency_count", ("model_name", model), ("API", "Predict"), ("runtime", "ORT")));
        AssertHistogram(page, ":tensorflow:serving:runtime_latency", TfServingMetricsTests.LatencyLimits, ("model_name", model));
        Assert.Equal(4, page.Value(":tensorflow:serving:batching_session:wrapped_run_count"));
        Assert.Equal(4, page.Value(":tensorflow:serving:batching_session:queuing_latency_count", ("thread_pool_name", "")));
        AssertHistogram(page, ":tensorflow:serving:batching_session:queuing_latency", TfServingMetricsTests.QueuingLimits, ("thread_pool_name", ""));
        AssertSizes(page, ":tensorflow:serving:batching_session:input_batch_size", value: 1, count: 4);
        AssertSizes(page, ":tensorflow:serving:batching_session:processed_batch_size", value: 2, count: 4);
        AssertSizes(page, ":tensorflow:serving:batching_session:padding_size", value: 1, count: 4, ("execution_batch_size", "2"));

        // Loads are keyed by the version folder, TensorFlow's export directory; the broken model fails (and retries).
        var versionFolder = Path.GetDirectoryName(modelFile)!;
        var brokenFolder = Path.Combine(_repo.ModelPath("broken"), "1");
        Assert.Equal(1, page.Value(":tensorflow:cc:saved_model:load_attempt_count", ("model_path", versionFolder), ("status", "success")));
        Assert.Empty(page.Find(":tensorflow:cc:saved_model:load_attempt_count", ("model_path", versionFolder), ("status", "fail")));
        Assert.True(page.Value(":tensorflow:cc:saved_model:load_attempt_count", ("model_path", brokenFolder), ("status", "fail")) >= 1);
        Assert.True(page.Value(":tensorflow:cc:saved_model:load_latency", ("model_path", versionFolder)) > 0);
        Assert.Equal(2, page.Find(":tensorflow:cc:saved_model:load_latency").Count);

        // Our own page is as before: our series, none of TF's.
        var ours = await server.Client.GetStringAsync("/metrics");
        Assert.DoesNotContain(":tensorflow:", ours, StringComparison.Ordinal);
        Assert.Contains(ours.Split('\n'), line => line.StartsWith("servingstack_requests_total{", StringComparison.Ordinal) &&
            line.Contains($"model=\"{model}\"", StringComparison.Ordinal) && line.Contains("protocol=\"tfserving_rest\"", StringComparison.Ordinal) &&
            line.Contains("status=\"OK\"", StringComparison.Ordinal) && line.EndsWith("} 2", StringComparison.Ordinal));
        Assert.Equal(404, (int)(await server.Client.GetAsync(DefaultPath)).StatusCode);
    }

    [Fact]
    public async Task Monitoring_without_a_path_serves_at_TF_Servings_default_path()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        var monitoring = _repo.WriteConfig("monitoring.config", "prometheus_config { enable: true }\n");
        await using var server = await InferenceServer.StartReadyAsync($"--model_base_path={_repo.ModelPath("mnist")}", "--model_name=mnist", $"--monitoring_config_file={monitoring}");

        Assert.Equal(200, (await Json.PostAsync(server.Client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(2)) })).Status);

        await Eventually.TrueAsync(async () =>
        {
            var page = PrometheusPage.Parse(await server.Client.GetStringAsync(DefaultPath));
            return page.Find(":tensorflow:serving:request_count", ("model_name", "mnist"), ("status", "OK")).Sum(s => s.Value) == 1;
        }, "the request to be counted at the default path");
        var text = await server.Client.GetStringAsync(DefaultPath);
        var final = PrometheusPage.Parse(text);
        // Without batching the run is still timed; no batch series get samples.
        Assert.Equal(1, final.Value(":tensorflow:serving:runtime_latency_count", ("model_name", "mnist")));
        Assert.Empty(final.Find(":tensorflow:serving:batching_session:wrapped_run_count"));
        Assert.Empty(final.Find(":tensorflow:serving:batching_session:queuing_latency_count"));
        Assert.Equal(1, final.Value(":tensorflow:cc:saved_model:load_attempt_count", ("status", "success")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("prometheus_config { enable: false path: \"/tf/prometheus\" }")]
    public async Task Disabled_or_absent_monitoring_answers_404_and_records_nothing(string? file)
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        List<string> args = [$"--model_base_path={_repo.ModelPath("mnist")}", "--model_name=mnist"];
        if (file is not null)
        {
            args.Add($"--monitoring_config_file={_repo.WriteConfig("monitoring.config", file)}");
        }

        await using var server = await InferenceServer.StartReadyAsync([.. args]);
        Assert.Equal(200, (await Json.PostAsync(server.Client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(1)) })).Status);

        Assert.Equal(404, (int)(await server.Client.GetAsync(DefaultPath)).StatusCode);
        Assert.Equal(404, (int)(await server.Client.GetAsync("/tf/prometheus")).StatusCode);
        Assert.Null(server.Services.GetRequiredService<ServingMetrics>().TfServing);
        Assert.Equal(200, (int)(await server.Client.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Invalid_monitoring_config_stops_the_start_listing_every_problem()
    {
        var monitoring = _repo.WriteConfig("monitoring.config", """
            prometheus_config {
              enable: yes
              path: 8501
              port: 9090
            }
            logging_config { }
            """);

        var failures = await StartFailuresAsync(monitoring);

        var where = $"--monitoring_config_file '{monitoring}'";
        Assert.Equal(
            [
                $"{where}: prometheus_config.enable must be true or false, not 'yes'",
                $"{where}: prometheus_config.path must be a quoted string, not 8501",
                $"{where}: unknown field 'prometheus_config.port' (PrometheusConfig has 'enable' and 'path')",
                $"{where}: unknown field 'logging_config' (MonitoringConfig has only 'prometheus_config')",
            ],
            failures);
    }

    [Theory]
    [InlineData("metrics", "must be an absolute URL path starting with '/', not 'metrics'")]
    [InlineData("/metrics", "collides with the server's own '/metrics'")]
    [InlineData("/Healthz/", "collides with the server's own '/healthz'")]
    [InlineData("/ready", "collides with the server's own '/ready'")]
    [InlineData("/v1/models/metrics", "collides with the server's own '/v1'")]
    [InlineData("/v2", "collides with the server's own '/v2'")]
    [InlineData("/tensorflow.serving.PredictionService/Predict", "is in the server's gRPC space ('/tensorflow....')")]
    [InlineData("/monitoring/{name}", "has the character '{' (U+007B)")]
    [InlineData("/monitoring metrics", "has the character ' ' (U+0020)")]
    [InlineData("/monitoring//metrics", "has an empty, '.' or '..' segment")]
    [InlineData("/monitoring/../metrics", "has an empty, '.' or '..' segment")]
    public async Task Unusable_prometheus_path_stops_the_start_saying_why(string path, string expected)
    {
        var monitoring = _repo.WriteConfig("monitoring.config", $"prometheus_config {{ enable: true path: \"{path}\" }}");

        var failure = Assert.Single(await StartFailuresAsync(monitoring));

        Assert.StartsWith($"--monitoring_config_file '{monitoring}': prometheus_config.path", failure, StringComparison.Ordinal);
        Assert.Contains(expected, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unusable_path_is_not_checked_while_monitoring_is_off()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        var monitoring = _repo.WriteConfig("monitoring.config", "prometheus_config { path: \"/metrics\" }");

        await using var server = await InferenceServer.StartReadyAsync($"--model_base_path={_repo.ModelPath("mnist")}", "--model_name=mnist", $"--monitoring_config_file={monitoring}");

        Assert.Null(server.Services.GetRequiredService<ServingMetrics>().TfServing);
        Assert.Contains("servingstack_", await server.Client.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_or_unreadable_monitoring_config_file_stops_the_start()
    {
        var missing = Path.Combine(_repo.Root, "no-such.config");
        var missingFailure = Assert.Single(await StartFailuresAsync(missing));
        Assert.StartsWith($"--monitoring_config_file '{missing}': cannot read the file: ", missingFailure, StringComparison.Ordinal);
        Assert.Contains("no-such.config", missingFailure["--monitoring_config_file ''".Length..], StringComparison.Ordinal);

        var folder = Directory.CreateDirectory(Path.Combine(_repo.Root, "a-folder")).FullName;
        Assert.StartsWith($"--monitoring_config_file '{folder}': cannot read the file: ", Assert.Single(await StartFailuresAsync(folder)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Monitoring_config_that_is_not_text_format_stops_the_start_naming_the_line()
    {
        var monitoring = _repo.WriteConfig("monitoring.config", "prometheus_config {\n  enable: true\n  path: /tf\n}\n");

        var failure = Assert.Single(await StartFailuresAsync(monitoring));

        Assert.StartsWith($"--monitoring_config_file '{monitoring}': not valid protobuf text format: line 3:", failure, StringComparison.Ordinal);
    }

    /// <summary>Starts a server whose only problem is <paramref name="monitoringFile"/>; returns the failures it reports.</summary>
    private async Task<List<string>> StartFailuresAsync(string monitoringFile)
    {
        if (!Directory.Exists(_repo.ModelPath("mnist")))
        {
            _repo.AddMlp("mnist", 1, seed: 1);
        }

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            InferenceServer.StartAsync($"--model_base_path={_repo.ModelPath("mnist")}", "--model_name=mnist", $"--monitoring_config_file={monitoringFile}"));
        Assert.Equal(typeof(ServingStack.Inference.Monitoring.MonitoringConfig), exception.OptionsType);
        return exception.Failures.ToList();
    }

    /// <summary>Buckets in TF's order with TF's limits, never decreasing, the last (+Inf) equal to the count.</summary>
    private static void AssertHistogram(PrometheusPage page, string name, string[] limits, params (string Key, string Value)[] series)
    {
        var buckets = page.Find(name + "_bucket", series);
        Assert.Equal(limits, buckets.Select(b => b.Labels["le"]));
        for (var i = 1; i < buckets.Count; i++)
        {
            Assert.True(buckets[i].Value >= buckets[i - 1].Value, $"{name} bucket le={buckets[i].Labels["le"]} went down");
        }

        Assert.Equal(page.Value(name + "_count", series), buckets[^1].Value);
        Assert.True(page.Value(name + "_sum", series) > 0, $"{name}_sum is 0");
    }

    /// <summary>A size histogram holding <paramref name="count"/> samples of <paramref name="value"/>: TF counts each under the first limit above it.</summary>
    private static void AssertSizes(PrometheusPage page, string name, int value, int count, params (string Key, string Value)[] series)
    {
        var buckets = page.Find(name + "_bucket", series);
        Assert.Equal(TfServingMetricsTests.BatchLimits, buckets.Select(b => b.Labels["le"]));
        foreach (var bucket in buckets)
        {
            var limit = bucket.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(bucket.Labels["le"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True((value < limit ? count : 0) == bucket.Value, $"{name} le={bucket.Labels["le"]}: {bucket.Value}");
        }

        Assert.Equal(count, page.Value(name + "_count", series));
        Assert.Equal(value * count, page.Value(name + "_sum", series));
    }
}
