using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// A Grafana dashboard in a ConfigMap labelled <c>grafana_dashboard: "1"</c>, the label Grafana's dashboard sidecar
/// (kube-prometheus-stack) loads: latency percentiles, QPS, errors, batch sizes, queue depth and model state, per
/// service and model, from the server's series.
/// </summary>
internal static class GrafanaDashboardBuilder
{
    public const string ConfigMapName = "servingstack-dashboard";
    public const string FileName = "servingstack.json";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static V1ConfigMap Create(PublishedGraph graph)
    {
        var labels = ServingLabels.ForApplication("monitoring", graph.Settings);
        labels["grafana_dashboard"] = "1";
        return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = ObjectMetadata.Create(ConfigMapName, graph.Namespace, labels),
            Data = new SortedDictionary<string, string>(StringComparer.Ordinal) { [FileName] = Dashboard(graph.Namespace).ToJsonString(s_json) + "\n" },
        };
    }

    public static JsonObject Dashboard(string ns)
    {
        var filter = $"namespace=\"{ns}\", service=~\"$service\", model=~\"$model\"";
        var panels = new JsonArray
        {
            Panel(1, "Latency P50 / P90 / P99 (successful requests)", "s", 0, 0,
                [.. new[] { "0.5", "0.9", "0.99" }.Select(q => Target(
                    $"histogram_quantile({q}, sum by (service, model, le) (rate(servingstack_request_duration_seconds_bucket{{{filter}, status=\"OK\"}}[$__rate_interval])))",
                    $"p{(q == "0.5" ? "50" : q[2..])} {{{{service}}}} {{{{model}}}}"))]),
            Panel(2, "Requests per second", "reqps", 12, 0,
                [Target($"sum by (service, model, version) (rate(servingstack_requests_total{{{filter}}}[$__rate_interval]))", "{{service}} {{model}} v{{version}}")]),
            Panel(3, "Errors per second by status", "reqps", 0, 8,
                [Target($"sum by (service, model, status) (rate(servingstack_requests_total{{{filter}, status!=\"OK\"}}[$__rate_interval]))", "{{service}} {{model}} {{status}}")]),
            Panel(4, "Batch size (rows per run, padding included)", "short", 12, 8,
            [
                Target($"sum by (service, model) (rate(servingstack_batch_size_sum{{{filter}}}[$__rate_interval])) / sum by (service, model) (rate(servingstack_batch_size_count{{{filter}}}[$__rate_interval]))", "mean {{service}} {{model}}"),
                Target($"histogram_quantile(0.99, sum by (service, model, le) (rate(servingstack_batch_size_bucket{{{filter}}}[$__rate_interval])))", "p99 {{service}} {{model}}"),
            ]),
            Panel(5, "Queue depth (rows waiting)", "short", 0, 16,
                [Target($"sum by (service, model, version) (servingstack_queue_depth{{{filter}}})", "{{service}} {{model}} v{{version}}")]),
            ModelStatePanel(6, filter),
        };

        return new JsonObject
        {
            ["title"] = "ServingStack",
            ["uid"] = "servingstack",
            ["tags"] = new JsonArray("servingstack"),
            ["timezone"] = "browser",
            ["schemaVersion"] = 39,
            ["refresh"] = "30s",
            ["time"] = new JsonObject { ["from"] = "now-1h", ["to"] = "now" },
            ["templating"] = new JsonObject
            {
                ["list"] = new JsonArray
                {
                    new JsonObject { ["name"] = "datasource", ["type"] = "datasource", ["query"] = "prometheus", ["label"] = "Data source" },
                    Variable("service", $"label_values(servingstack_requests_total{{namespace=\"{ns}\"}}, service)"),
                    Variable("model", $"label_values(servingstack_model_state{{namespace=\"{ns}\", service=~\"$service\"}}, model)"),
                },
            },
            ["panels"] = panels,
        };
    }

    private static JsonObject Variable(string name, string query) => new()
    {
        ["name"] = name,
        ["type"] = "query",
        ["datasource"] = Datasource(),
        ["query"] = query,
        ["includeAll"] = true,
        ["multi"] = true,
        ["refresh"] = 2,
    };

    private static JsonObject Panel(int id, string title, string unit, int x, int y, JsonNode[] targets) => new()
    {
        ["id"] = id,
        ["type"] = "timeseries",
        ["title"] = title,
        ["datasource"] = Datasource(),
        ["gridPos"] = new JsonObject { ["h"] = 8, ["w"] = 12, ["x"] = x, ["y"] = y },
        ["fieldConfig"] = new JsonObject { ["defaults"] = new JsonObject { ["unit"] = unit }, ["overrides"] = new JsonArray() },
        ["targets"] = new JsonArray([.. targets.Select((t, i) => { t["refId"] = ((char)('A' + i)).ToString(); return t; })]),
    };

    /// <summary>TF Serving's state numbers as names: AVAILABLE green, LOADING/START blue, UNLOADING/END grey.</summary>
    private static JsonObject ModelStatePanel(int id, string filter)
    {
        var panel = Panel(id, "Model state", "none", 12, 16,
            [Target($"max by (service, pod, model, version) (servingstack_model_state{{{filter}}})", "{{pod}} {{model}} v{{version}}")]);
        panel["type"] = "state-timeline";
        var mappings = new JsonObject();
        foreach (var (value, text, color) in new[] { ("10", "START", "blue"), ("20", "LOADING", "blue"), ("30", "AVAILABLE", "green"), ("40", "UNLOADING", "orange"), ("50", "END", "text") })
        {
            mappings[value] = new JsonObject { ["text"] = text, ["color"] = color };
        }

        panel["fieldConfig"]!["defaults"]!["mappings"] = new JsonArray(new JsonObject { ["type"] = "value", ["options"] = mappings });
        return panel;
    }

    private static JsonObject Target(string expr, string legend) => new()
    {
        ["datasource"] = Datasource(),
        ["expr"] = expr,
        ["legendFormat"] = legend,
    };

    private static JsonObject Datasource() => new() { ["type"] = "prometheus", ["uid"] = "${datasource}" };
}
