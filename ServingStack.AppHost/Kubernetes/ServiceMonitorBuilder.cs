using k8s.Models;
using ServingStack.AppHost.Kubernetes.Crds;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// One ServiceMonitor per Service, listing every port that serves <c>/metrics</c>: the server's and the sync's for an
/// inference service, the REST port for the gateway. Prometheus labels the series with <c>service</c> (the Service's
/// name), which the alert rules and the dashboard group by.
/// </summary>
internal static class ServiceMonitorBuilder
{
    public const string MetricsPath = "/metrics";

    public static ServiceMonitor Inference(InferenceWorkload workload, PublishedGraph graph)
    {
        var rest = EndpointPort.Of(workload.Resource).Single(p => !p.Http2);
        return Create(workload.Name, ServingLabels.InferenceComponent, graph,
            new ServiceMonitorEndpoint { Port = rest.Name, Path = MetricsPath, Interval = "15s" },
            new ServiceMonitorEndpoint { Port = DeploymentBuilder.SyncPort(workload).Name, Path = MetricsPath, Interval = "30s" });
    }

    public static ServiceMonitor Gateway(GatewayWorkload workload, PublishedGraph graph)
    {
        var rest = EndpointPort.Of(workload.Resource).Single(p => !p.Http2);
        return Create(workload.Name, ServingLabels.GatewayComponent, graph, new ServiceMonitorEndpoint { Port = rest.Name, Path = MetricsPath, Interval = "15s" });
    }

    private static ServiceMonitor Create(string service, string component, PublishedGraph graph, params ServiceMonitorEndpoint[] endpoints) => new()
    {
        Metadata = ObjectMetadata.Create(service, graph.Namespace, ServingLabels.For(service, component, graph.Settings)),
        Spec = new ServiceMonitorSpec
        {
            Selector = new V1LabelSelector { MatchLabels = ServingLabels.Selector(service) },
            Endpoints = [.. endpoints],
        },
    };
}
