using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// Services named after their resource, each endpoint on its target port, so the in-cluster URL of an endpoint is
/// <c>http://{resource}:{target port}</c> (what <see cref="ResourceEvaluator"/> binds service discovery to). An inference
/// Service is headless: its name resolves to the addresses of its ready pods, which the gateway proxies to one by one
/// (its load balancing, health checks and retries work per pod, and a scale-out is seen at the next resolution),
/// instead of one virtual IP where kube-proxy picks a pod per connection and HTTP/2 traffic stays where it landed.
/// </summary>
internal static class ServiceBuilder
{
    /// <summary>
    /// The server's ports, and the sync sidecar's (for its <c>/metrics</c>). The sidecar's is targeted by number: it
    /// is declared on an init container, and not every Kubernetes version resolves named target ports there.
    /// </summary>
    public static V1Service Inference(InferenceWorkload workload, PublishedGraph graph) =>
        Create(workload.Name, ServingLabels.InferenceComponent, [.. EndpointPort.Of(workload.Resource)], DeploymentBuilder.SyncPort(workload), graph, headless: true);

    public static V1Service Gateway(GatewayWorkload workload, PublishedGraph graph) =>
        Create(workload.Name, ServingLabels.GatewayComponent, EndpointPort.Of(workload.Resource), sidecar: null, graph, headless: false);

    private static V1Service Create(string name, string component, IEnumerable<EndpointPort> ports, EndpointPort? sidecar, PublishedGraph graph, bool headless) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = ObjectMetadata.Create(name, graph.Namespace, ServingLabels.For(name, component, graph.Settings)),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = headless ? "None" : null,
            Selector = ServingLabels.Selector(name),
            Ports =
            [
                .. ports.Select(p => Port(p, targetPort: p.Name)),
                .. sidecar is null ? [] : new[] { Port(sidecar, targetPort: sidecar.Port) },
            ],
        },
    };

    private static V1ServicePort Port(EndpointPort port, IntOrString targetPort) => new()
    {
        Name = port.Name,
        Port = port.Port,
        TargetPort = targetPort,
        Protocol = "TCP",
        // gRPC is HTTP/2 without TLS; meshes and ingress controllers read this instead of guessing.
        AppProtocol = port.Http2 ? "kubernetes.io/h2c" : "http",
    };
}
