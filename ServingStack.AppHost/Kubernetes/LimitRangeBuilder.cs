using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// Defaults for containers that come without requests and limits (a <c>kubectl debug</c> container, a hand-added
/// job), so the quota still admits them; and a maximum per container: the largest the graph itself asks for.
/// </summary>
internal static class LimitRangeBuilder
{
    public static V1LimitRange Create(PublishedGraph graph)
    {
        var computes = graph.Inference.Select(w => w.Resource.Compute).Append(DeploymentBuilder.SyncCompute);
        if (graph.Gateway is { } gateway)
        {
            computes = computes.Append(gateway.Resource.Compute);
        }

        var largest = computes.Select(ComputeTotals.Of).ToList();
        var defaults = ComputeTotals.Of(DeploymentBuilder.SyncCompute);
        return new V1LimitRange
        {
            ApiVersion = "v1",
            Kind = "LimitRange",
            Metadata = ObjectMetadata.Create(graph.Namespace, graph.Namespace, ServingLabels.ForApplication("namespace", graph.Settings)),
            Spec = new V1LimitRangeSpec
            {
                Limits =
                [
                    new V1LimitRangeItem
                    {
                        Type = "Container",
                        DefaultRequest = Quantities(defaults.CpuRequest, defaults.MemoryRequest),
                        DefaultProperty = Quantities(defaults.CpuLimit, defaults.MemoryLimit),
                        Max = Quantities(largest.Max(c => c.CpuLimit), largest.Max(c => c.MemoryLimit)),
                    },
                ],
            },
        };
    }

    private static SortedDictionary<string, ResourceQuantity> Quantities(decimal cpu, decimal memory) => new(StringComparer.Ordinal)
    {
        ["cpu"] = new(ComputeTotals.Cpu(cpu)),
        ["memory"] = new(ComputeTotals.Memory(memory)),
    };
}
