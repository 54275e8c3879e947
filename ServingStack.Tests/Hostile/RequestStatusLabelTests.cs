using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Hostile;

/// <summary><c>servingstack_requests_total</c>'s status label is the status the client was sent, whatever happened.</summary>
[Collection(HostileServerCollection.Name)]
public sealed partial class RequestStatusLabelTests(HostileServerFixture fixture)
{
    private const string Model = "metrics_probe";

    [GeneratedRegex("^servingstack_requests_total\\{(?<labels>[^}]*)\\} (?<value>\\S+)", RegexOptions.Multiline)]
    private static partial Regex RequestsSample();

    [Fact]
    public async Task Every_REST_outcome_is_counted_under_the_status_it_was_answered_with()
    {
        var row = string.Join(",", TestData.MnistRows(1)[0].Select(v => v.ToString(CultureInfo.InvariantCulture)));
        (string Path, string Body)[] requests =
        [
            ($"/v1/models/{Model}:predict", $$"""{"instances": [[{{row}}]]}"""),
            ($"/v2/models/{Model}/infer", $$"""{"inputs": [{"name": "x", "shape": [1, 784], "datatype": "FP32", "data": [{{row}}]}]}"""),
            ($"/v1/models/{Model}:predict", """{"instances": [[1, 2"""),
            ($"/v2/models/{Model}/versions/9/infer", "{}"),
            // Each of these was a 500 counted as OK.
            ($"/v2/models/{Model}/infer", """{"id": "\ud800", "inputs": []}"""),
            ($"/v1/models/{Model}:predict", """{"signature_name": "\udc00", "instances": [[1]]}"""),
            ($"/v2/models/{Model}/infer", """{"inputs": [{"name": "x", "shape": [268435455], "datatype": "FP64", "data": 0}]}"""),
        ];

        var expected = new Dictionary<string, int>();
        foreach (var (path, body) in requests)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await fixture.Server.Client.PostAsync(path, content);
            var status = StatusName((int)response.StatusCode);
            expected[status] = expected.GetValueOrDefault(status) + 1;
        }

        // Handlers count a request as they finish, which can be just after the client has its response.
        Dictionary<string, int> counted = [];
        await Eventually.TrueAsync(async () =>
        {
            counted = Counted(await fixture.Server.Client.GetStringAsync("/metrics"));
            return counted.Values.Sum() >= requests.Length;
        }, "every request to be counted");

        Assert.Equal(expected.OrderBy(p => p.Key), counted.OrderBy(p => p.Key));
    }

    [Fact]
    public async Task An_exception_escaping_the_pipeline_is_counted_INTERNAL_or_CANCELLED_not_OK()
    {
        // A fault no request can cause any more: a protocol adapter that throws. The pipeline must count what the
        // client gets (the exception handler's 500, or nothing once it has gone), never OK.
        var model = "fault_" + Guid.NewGuid().ToString("N")[..8];
        using var repo = new TempModelRepository();
        repo.AddMlp(model, 1, seed: 42);
        using var metrics = new MetricsRecorder(model);
        await using var server = await InferenceServer.StartReadyAsync($"--model_name={model}", $"--model_base_path={repo.ModelPath(model)}");
        var models = server.Services.GetRequiredService<ModelManager>();
        var serving = server.Services.GetRequiredService<ServingMetrics>();

        var context = Context("{}");
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            JsonInferencePipeline.InvokeAsync(context, models, new ServingOptions(), serving, new ModelTarget(model, null, null), new ThrowingProtocol(new InvalidOperationException("fault"))));

        using var aborted = new CancellationTokenSource();
        context = Context("{}");
        context.RequestAborted = aborted.Token;
        await aborted.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            JsonInferencePipeline.InvokeAsync(context, models, new ServingOptions(), serving, new ModelTarget(model, null, null), new ThrowingProtocol(new OperationCanceledException())));

        Assert.Equal(1, metrics.Count("servingstack.requests", "status", "INTERNAL"));
        Assert.Equal(1, metrics.Count("servingstack.requests", "status", "CANCELLED"));
        Assert.Equal(0, metrics.Count("servingstack.requests", "status", "OK"));
    }

    private static DefaultHttpContext Context(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Request.ContentLength = context.Request.Body.Length;
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static Dictionary<string, int> Counted(string metricsText)
    {
        var counted = new Dictionary<string, int>();
        foreach (Match sample in RequestsSample().Matches(metricsText))
        {
            var labels = sample.Groups["labels"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1].Trim('"'));
            if (labels.GetValueOrDefault("model") == Model)
            {
                var status = labels["status"];
                counted[status] = counted.GetValueOrDefault(status) + (int)double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return counted;
    }

    private static string StatusName(int status) => status switch
    {
        200 => "OK",
        400 => "INVALID_ARGUMENT",
        404 => "NOT_FOUND",
        413 or 429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };

    private sealed class ThrowingProtocol(Exception fault) : IJsonInferenceProtocol
    {
        public string Name => "fault_injection";

        public bool SupportsBinaryTensorData => false;

        public ServingError? ReadRequest(System.Text.Json.JsonElement root, OnnxModelSession session, ParsedInferenceRequest request) => throw fault;

        public ServingError? CheckOutputs(ParsedInferenceRequest request, InferenceTensor[] outputs) => null;

        public void WriteResponse(System.Text.Json.Utf8JsonWriter writer, ModelVersion version, ParsedInferenceRequest request, InferenceTensor[] outputs)
        {
        }
    }
}
