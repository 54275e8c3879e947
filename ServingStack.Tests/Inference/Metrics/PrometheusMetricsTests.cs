using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Metrics;

public sealed partial class PrometheusMetricsTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [GeneratedRegex("^(?<name>[a-z_]+)\\{(?<labels>[^}]*)\\} (?<value>\\S+)$", RegexOptions.Multiline)]
    private static partial Regex Sample();

    private static List<(string Name, Dictionary<string, string> Labels, double Value)> Parse(string text) =>
        Sample().Matches(text).Select(m => (
            m.Groups["name"].Value,
            m.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1].Trim('"')),
            double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture))).ToList();

    [Fact]
    public async Task Metrics_endpoint_is_valid_Prometheus_text_with_the_listed_series_after_traffic()
    {
        // Servers of parallel tests share the meter's name in this process, so this test's series carry a model name of its own.
        var model = "prom_" + Guid.NewGuid().ToString("N")[..8];
        _repo.AddMlp(model, 1, seed: 1);
        var config = _repo.WriteConfig("models.json", $$"""
            { "model_config_list": [ { "name": "{{model}}", "base_path": "{{model}}", "batching": { "max_batch_size": 4, "allowed_batch_sizes": [2, 4] } } ] }
            """);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var row = new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(1)) };
        Assert.Equal(200, (await Json.PostAsync(server.Client, $"/v1/models/{model}:predict", row)).Status);
        Assert.Equal(200, (await Json.PostAsync(server.Client, $"/v1/models/{model}:predict", row)).Status);
        Assert.Equal(400, (await Json.PostAsync(server.Client, $"/v1/models/{model}:predict", "{}")).Status);
        Assert.Equal(404, (await Json.PostAsync(server.Client, "/v1/models/unknown:predict", row)).Status);

        // Requests are counted as their handlers finish, which can be just after the client has its response.
        var text = "";
        await Eventually.TrueAsync(async () =>
        {
            text = await server.Client.GetStringAsync("/metrics");
            var samples = Parse(text);
            return samples.Where(s => s.Name == "servingstack_requests_total" && s.Labels.GetValueOrDefault("model") == model).Sum(s => s.Value) == 3 &&
                samples.Any(s => s.Name == "servingstack_requests_total" && s.Labels.GetValueOrDefault("status") == "NOT_FOUND");
        }, "the requests to be counted");

        var (exitCode, output) = await PromTool.CheckMetricsAsync(text);
        // 0: clean; 3: lint remarks only. The .NET runtime's own series draw remarks; ours must draw none.
        Assert.True(exitCode is 0 or 3, $"promtool check metrics failed ({exitCode}): {output}");
        Assert.DoesNotContain("servingstack_", output);

        var samples = Parse(text);
        double Value(string name, params (string Key, string Value)[] labels) =>
            Assert.Single(samples, s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Value;

        Assert.Equal(2, Value("servingstack_requests_total", ("model", model), ("version", "1"), ("protocol", "tfserving_rest"), ("status", "OK")));
        Assert.Equal(1, Value("servingstack_requests_total", ("model", model), ("version", "1"), ("protocol", "tfserving_rest"), ("status", "INVALID_ARGUMENT")));
        // An unknown model's name is not a label value: clients must not be able to create series at will.
        Assert.Contains(samples, s => s.Name == "servingstack_requests_total" && s.Labels["model"] == "" && s.Labels["status"] == "NOT_FOUND" && s.Value >= 1);
        Assert.DoesNotContain(samples, s => s.Labels.ContainsValue("unknown"));
        Assert.Equal(2, Value("servingstack_request_duration_seconds_count", ("model", model), ("version", "1"), ("status", "OK")));
        Assert.Equal(2, Value("servingstack_queue_duration_seconds_count", ("model", model), ("version", "1")));
        Assert.Equal(2, Value("servingstack_compute_duration_seconds_count", ("model", model), ("version", "1")));
        // Single-row requests run padded to the smallest allowed size, 2.
        Assert.Equal(0, Value("servingstack_batch_size_bucket", ("model", model), ("le", "1")));
        Assert.Equal(2, Value("servingstack_batch_size_bucket", ("model", model), ("le", "2")));
        Assert.Equal(2, Value("servingstack_batch_rows_bucket", ("model", model), ("le", "1")));
        Assert.Equal(0, Value("servingstack_queue_depth", ("model", model), ("version", "1")));
        Assert.Equal(30, Value("servingstack_model_state", ("model", model), ("version", "1")));
        Assert.Equal(1, Value("servingstack_model_load_duration_seconds_count", ("model", model), ("version", "1"), ("outcome", "success")));
    }
}
