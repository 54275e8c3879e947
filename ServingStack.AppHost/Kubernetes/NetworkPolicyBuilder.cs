using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// Inference pods take connections only from the gateway (REST and gRPC) and from Prometheus in the monitoring
/// namespace (the metrics ports). Kubelet probes come from the node and are not subject to it on common CNIs.
/// </summary>
internal static class NetworkPolicyBuilder
{
    public const string InferenceFromGateway = "inference-from-gateway";

    public static V1NetworkPolicy Inference(PublishedGraph graph)
    {
        // Every inference Deployment's ports (they are the same in publish mode, but nothing here relies on that).
        var serving = graph.Inference.SelectMany(w => EndpointPort.Of(w.Resource)).DistinctBy(p => p.Port).OrderBy(p => p.Port).ToList();
        var metrics = graph.Inference.SelectMany(w => new[] { EndpointPort.Of(w.Resource).Single(p => !p.Http2), DeploymentBuilder.SyncPort(w) })
            .DistinctBy(p => p.Port).OrderBy(p => p.Port).ToList();
        var rules = new List<V1NetworkPolicyIngressRule>();
        if (graph.Gateway is not null)
        {
            rules.Add(new V1NetworkPolicyIngressRule
            {
                FromProperty = [new V1NetworkPolicyPeer { PodSelector = new V1LabelSelector { MatchLabels = ServingLabels.ComponentSelector(ServingLabels.GatewayComponent) } }],
                Ports = Ports(serving),
            });
        }

        rules.Add(new V1NetworkPolicyIngressRule
        {
            FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = NamespaceSelector(graph.Settings.MonitoringNamespace) }],
            Ports = Ports(metrics),
        });

        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = ObjectMetadata.Create(InferenceFromGateway, graph.Namespace, ServingLabels.ForApplication(ServingLabels.InferenceComponent, graph.Settings)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = ServingLabels.ComponentSelector(ServingLabels.InferenceComponent) },
                PolicyTypes = ["Ingress"],
                Ingress = rules,
            },
        };
    }

    /// <summary>The edge variants: the ingress controller's namespace reaches the inference REST port directly.</summary>
    public static V1NetworkPolicy EdgeIngress(PublishedGraph graph, string controllerNamespace, string name = "inference-from-edge")
    {
        var rest = graph.Inference.Select(w => EndpointPort.Of(w.Resource).Single(p => !p.Http2)).DistinctBy(p => p.Port).OrderBy(p => p.Port).ToList();
        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = ObjectMetadata.Create(name, graph.Namespace, ServingLabels.ForApplication(ServingLabels.InferenceComponent, graph.Settings)),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = ServingLabels.ComponentSelector(ServingLabels.InferenceComponent) },
                PolicyTypes = ["Ingress"],
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = NamespaceSelector(controllerNamespace) }], Ports = Ports(rest) }],
            },
        };
    }

    /// <summary>Every namespace carries this label (Kubernetes 1.22+), so a namespace is selected by name.</summary>
    private static V1LabelSelector NamespaceSelector(string name) => new()
    {
        MatchLabels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["kubernetes.io/metadata.name"] = name },
    };

    private static List<V1NetworkPolicyPort> Ports(IEnumerable<EndpointPort> ports) =>
        ports.Select(p => new V1NetworkPolicyPort { Protocol = "TCP", Port = p.Port }).ToList();
}
