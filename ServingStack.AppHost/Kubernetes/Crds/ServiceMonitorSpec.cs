using k8s.Models;

namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Which Services (in the ServiceMonitor's own namespace) to scrape, and on which of their ports.</summary>
public sealed class ServiceMonitorSpec
{
    public V1LabelSelector Selector { get; set; } = new();

    public List<ServiceMonitorEndpoint> Endpoints { get; set; } = [];
}
