using System.Globalization;
using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The way in: TLS at the ingress controller (host and certificate Secret from parameters), REST to the gateway's
/// HTTP/1.1 port and gRPC, on its own Ingress because ingress-nginx sets the backend protocol per Ingress, to its h2c port.
/// </summary>
internal static class IngressBuilder
{
    /// <summary>The gateway's own request body limit (Gateway:MaxRequestBodyBytes, 64 MiB); nginx's default is 1 MiB.</summary>
    private const string BodySize = "64m";

    public const string GrpcPath = "/inference.GRPCInferenceService";

    /// <summary>
    /// Kubernetes' Prefix matches whole path segments, and <c>/v1/models/mnist:predict</c>'s last segment is not
    /// <c>mnist</c>; ingress-nginx reads ImplementationSpecific as nginx's plain string prefix, which does match.
    /// </summary>
    private const string EdgePathType = "ImplementationSpecific";

    public static IEnumerable<V1Ingress> Gateway(GatewayWorkload workload, PublishedGraph graph)
    {
        var ports = EndpointPort.Of(workload.Resource);
        var rest = ports.Single(p => !p.Http2);
        var grpc = ports.Single(p => p.Http2);
        yield return Create(workload.Name, workload.Name, ServingLabels.GatewayComponent, "/", "Prefix", rest.Name, graph, new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["nginx.ingress.kubernetes.io/proxy-body-size"] = BodySize,
        });
        yield return Create($"{workload.Name}-grpc", workload.Name, ServingLabels.GatewayComponent, GrpcPath, "Prefix", grpc.Name, graph, new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["nginx.ingress.kubernetes.io/backend-protocol"] = "GRPC",
            ["nginx.ingress.kubernetes.io/proxy-body-size"] = BodySize,
        });
    }

    /// <summary>
    /// For clusters that split at the edge instead of in the gateway: one model's REST path straight to the stable
    /// Service, and an ingress-nginx canary Ingress to the canary Service with the split's weight. The header
    /// <c>X-Canary: always|never</c> overrides it, as it does in the gateway.
    /// </summary>
    public static IEnumerable<V1Ingress> EdgeCanary(Hosting.GatewaySplit split, PublishedGraph graph)
    {
        var stable = split.Targets[0];
        var path = $"/v1/models/{split.Model}";
        yield return Create($"edge-{split.Model}-{stable.Name}", stable.Service.Name, ServingLabels.InferenceComponent, path, EdgePathType, "rest", graph, new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["nginx.ingress.kubernetes.io/proxy-body-size"] = BodySize,
        });
        foreach (var canary in split.Targets.Skip(1))
        {
            yield return Create($"edge-{split.Model}-{canary.Name}", canary.Service.Name, ServingLabels.InferenceComponent, path, EdgePathType, "rest", graph, new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                ["nginx.ingress.kubernetes.io/canary"] = "true",
                ["nginx.ingress.kubernetes.io/canary-by-header"] = "X-Canary",
                ["nginx.ingress.kubernetes.io/canary-weight"] = canary.Weight.ToString(CultureInfo.InvariantCulture),
                ["nginx.ingress.kubernetes.io/proxy-body-size"] = BodySize,
            });
        }
    }

    private static V1Ingress Create(string name, string service, string component, string path, string pathType, string port, PublishedGraph graph, IDictionary<string, string> annotations) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "Ingress",
        Metadata = ObjectMetadata.Create(name, graph.Namespace, ServingLabels.For(service, component, graph.Settings), annotations),
        Spec = new V1IngressSpec
        {
            IngressClassName = graph.Settings.IngressClassName,
            Tls = [new V1IngressTLS { Hosts = [graph.Settings.IngressHost], SecretName = graph.Settings.IngressTlsSecret }],
            Rules =
            [
                new V1IngressRule
                {
                    Host = graph.Settings.IngressHost,
                    Http = new V1HTTPIngressRuleValue
                    {
                        Paths =
                        [
                            new V1HTTPIngressPath
                            {
                                Path = path,
                                PathType = pathType,
                                Backend = new V1IngressBackend { Service = new V1IngressServiceBackend { Name = service, Port = new V1ServiceBackendPort { Name = port } } },
                            },
                        ],
                    },
                },
            ],
        },
    };
}
