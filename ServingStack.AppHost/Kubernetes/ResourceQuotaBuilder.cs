using System.Globalization;
using k8s.Models;
using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The namespace's ceiling, derived from the graph: every Deployment at its largest (the HPA's maximum, else its
/// replicas) plus one surge pod for rolling updates, each pod counted with all its containers, init ones included.
/// A change to the graph's replicas or compute moves the quota with it.
/// </summary>
internal static class ResourceQuotaBuilder
{
    public static V1ResourceQuota Create(PublishedGraph graph)
    {
        var totals = ComputeTotals.Zero;
        var pods = 0;
        var gpus = 0;
        foreach (var workload in graph.Inference)
        {
            var resource = workload.Resource;
            var count = (resource.Autoscaling?.MaxReplicas ?? resource.Replicas()) + 1;
            var pod = ComputeTotals.Of(resource.Compute) + ComputeTotals.Of(DeploymentBuilder.SyncCompute) * 2;
            totals += pod * count;
            pods += count;
            gpus += resource.Gpus * count;
        }

        if (graph.Gateway is { } gateway)
        {
            var count = gateway.Resource.Replicas + 1;
            totals += ComputeTotals.Of(gateway.Resource.Compute) * count;
            pods += count;
        }

        var hard = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal)
        {
            ["pods"] = new(pods.ToString(CultureInfo.InvariantCulture)),
            ["requests.cpu"] = new(ComputeTotals.Cpu(totals.CpuRequest)),
            ["requests.memory"] = new(ComputeTotals.Memory(totals.MemoryRequest)),
            ["limits.cpu"] = new(ComputeTotals.Cpu(totals.CpuLimit)),
            ["limits.memory"] = new(ComputeTotals.Memory(totals.MemoryLimit)),
        };
        // Extended resources are quota'd by request only; zero keeps GPUs out of a CPU-only namespace.
        hard[$"requests.{DeploymentBuilder.GpuResource}"] = new(gpus.ToString(CultureInfo.InvariantCulture));

        return new V1ResourceQuota
        {
            ApiVersion = "v1",
            Kind = "ResourceQuota",
            Metadata = ObjectMetadata.Create(graph.Namespace, graph.Namespace, ServingLabels.ForApplication("namespace", graph.Settings)),
            Spec = new V1ResourceQuotaSpec { Hard = hard },
        };
    }
}
