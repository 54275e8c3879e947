using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s.Models;
using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The files the processes read from <c>/etc/servingstack</c>: an inference service's model config and batching
/// parameters (rendered by <see cref="ServingConfigFiles"/>, as locally), and the gateway's routes and splits.
/// Both processes re-read them when the ConfigMap changes, so an edit needs no restart.
/// </summary>
internal static class ConfigMapBuilder
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static V1ConfigMap Inference(InferenceWorkload workload, PublishedGraph graph)
    {
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [ServingPaths.ModelConfigFileName] = ServingConfigFiles.ModelConfig(workload.Resource.Models, ServingPaths.ModelStore),
        };
        if (workload.Resource.Batching is { } batching)
        {
            data[ServingPaths.BatchingConfigFileName] = ServingConfigFiles.BatchingParameters(batching);
        }

        return Create(workload.ConfigMapName, workload.Name, ServingLabels.InferenceComponent, data, graph);
    }

    public static V1ConfigMap Gateway(GatewayWorkload workload, PublishedGraph graph)
    {
        var data = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            [ServingPaths.GatewayConfigFileName] = GatewayJson(workload.Resource.RoutingConfiguration()),
        };
        return Create(workload.ConfigMapName, workload.Name, ServingLabels.GatewayComponent, data, graph);
    }

    /// <summary>
    /// Flat configuration keys (<c>Gateway:Splits:mnist:Targets:0:Weight</c>) as the nested JSON the configuration
    /// JSON provider flattens back to the same keys; objects whose keys are 0..n-1 become arrays.
    /// </summary>
    public static string GatewayJson(IReadOnlyDictionary<string, string> flat)
    {
        var root = new JsonObject();
        foreach (var (key, value) in flat.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var node = root;
            var parts = key.Split(':');
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject child)
                {
                    child = new JsonObject();
                    node[part] = child;
                }

                node = child;
            }

            node[parts[^1]] = value;
        }

        return ToArrays(root).ToJsonString(s_json) + "\n";
    }

    private static JsonNode ToArrays(JsonNode node)
    {
        if (node is not JsonObject obj)
        {
            return node.DeepClone();
        }

        var entries = obj.Select(p => (p.Key, Value: ToArrays(p.Value!))).ToList();
        var isList = entries.Count > 0 && entries
            .Select(e => int.TryParse(e.Key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : -1)
            .Order()
            .SequenceEqual(Enumerable.Range(0, entries.Count));
        if (isList)
        {
            return new JsonArray([.. entries.OrderBy(e => int.Parse(e.Key, System.Globalization.CultureInfo.InvariantCulture)).Select(e => e.Value)]);
        }

        var result = new JsonObject();
        foreach (var (key, value) in entries)
        {
            result[key] = value;
        }

        return result;
    }

    private static V1ConfigMap Create(string name, string owner, string component, IDictionary<string, string> data, PublishedGraph graph) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = ObjectMetadata.Create(name, graph.Namespace, ServingLabels.For(owner, component, graph.Settings)),
        Data = data,
    };
}
