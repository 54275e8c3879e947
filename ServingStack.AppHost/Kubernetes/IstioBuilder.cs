using ServingStack.AppHost.Hosting;
using ServingStack.AppHost.Kubernetes.Crds;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The Istio edge variant: an Istio Gateway terminating TLS for the ingress host, per split model a VirtualService
/// sending its REST paths straight to the stable and canary Services with the split's weights (the header
/// <c>X-Canary: always|never</c> overrides them, as in the gateway), and per inference service a DestinationRule.
/// </summary>
internal static class IstioBuilder
{
    public const string GatewayName = "servingstack-edge";

    /// <summary>The label the default Istio ingress gateway's pods carry (istioctl's and the Helm chart's).</summary>
    private static readonly SortedDictionary<string, string> IngressGatewaySelector = new(StringComparer.Ordinal) { ["istio"] = "ingressgateway" };

    /// <summary>Istio matches header names in lower case.</summary>
    public const string CanaryHeader = "x-canary";

    public static IstioGateway Gateway(PublishedGraph graph) => new()
    {
        Metadata = ObjectMetadata.Create(GatewayName, graph.Namespace, ServingLabels.ForApplication(ServingLabels.InferenceComponent, graph.Settings)),
        Spec = new IstioGatewaySpec
        {
            Selector = new SortedDictionary<string, string>(IngressGatewaySelector, StringComparer.Ordinal),
            Servers =
            [
                new IstioGatewayServer
                {
                    Port = new IstioGatewayPort { Number = 443, Name = "https", Protocol = "HTTPS" },
                    Hosts = [graph.Settings.IngressHost],
                    Tls = new IstioGatewayTls { Mode = "SIMPLE", CredentialName = graph.Settings.IngressTlsSecret },
                },
            ],
        },
    };

    /// <summary>
    /// Routes, first match wins: <c>x-canary: always</c> to the canary, <c>x-canary: never</c> to the stable target,
    /// then the weighted split. Each matches the model's <c>/v1/models/{model}</c> (TF Serving REST) and
    /// <c>/v2/models/{model}</c> (KServe v2) prefixes.
    /// </summary>
    public static VirtualService Split(GatewaySplit split, PublishedGraph graph)
    {
        var stable = split.Targets[0];
        var routes = new List<VirtualServiceHttpRoute>();
        if (split.Targets.Count > 1)
        {
            routes.Add(Route($"{split.Model}-canary-always", split, "always", [Destination(split.Targets[1], weight: null, graph)]));
        }

        routes.Add(Route($"{split.Model}-canary-never", split, "never", [Destination(stable, weight: null, graph)]));
        routes.Add(Route($"{split.Model}-split", split, canaryHeader: null, [.. split.Targets.Select(t => Destination(t, t.Weight, graph))]));
        return new VirtualService
        {
            Metadata = ObjectMetadata.Create($"edge-{split.Model}", graph.Namespace, ServingLabels.For(stable.Service.Name, ServingLabels.InferenceComponent, graph.Settings)),
            Spec = new VirtualServiceSpec
            {
                Hosts = [graph.Settings.IngressHost],
                Gateways = [GatewayName],
                Http = routes,
            },
        };
    }

    /// <summary>
    /// Inference requests differ a lot in cost, so the least loaded endpoint gets the next one. Connection limits are
    /// generous (the server's own batch queue bounds the work and answers RESOURCE_EXHAUSTED); an endpoint that keeps
    /// failing at the transport level (502/503/504, resets) is ejected for a while, never more than half of them.
    /// </summary>
    public static DestinationRule Inference(InferenceWorkload workload, PublishedGraph graph) => new()
    {
        Metadata = ObjectMetadata.Create(workload.Name, graph.Namespace, ServingLabels.For(workload.Name, ServingLabels.InferenceComponent, graph.Settings)),
        Spec = new DestinationRuleSpec
        {
            Host = Host(workload.Resource, graph),
            TrafficPolicy = new DestinationRuleTrafficPolicy
            {
                LoadBalancer = new DestinationRuleLoadBalancer { Simple = "LEAST_REQUEST" },
                ConnectionPool = new DestinationRuleConnectionPool
                {
                    Tcp = new DestinationRuleTcpSettings { MaxConnections = 1024, ConnectTimeout = "5s" },
                    Http = new DestinationRuleHttpSettings { Http1MaxPendingRequests = 1024, Http2MaxRequests = 1024, IdleTimeout = "300s" },
                },
                OutlierDetection = new DestinationRuleOutlierDetection
                {
                    ConsecutiveGatewayErrors = 5,
                    Interval = "10s",
                    BaseEjectionTime = "30s",
                    MaxEjectionPercent = 50,
                },
            },
        },
    };

    /// <summary>A Service's fully qualified name, which Istio resolves regardless of the client's namespace.</summary>
    public static string Host(InferenceServiceResource service, PublishedGraph graph) => $"{service.Name}.{graph.Namespace}.svc.cluster.local";

    private static VirtualServiceHttpRoute Route(string name, GatewaySplit split, string? canaryHeader, List<VirtualServiceRouteDestination> route) => new()
    {
        Name = name,
        Match =
        [
            .. new[] { "v1", "v2" }.Select(api => new VirtualServiceHttpMatch
            {
                Uri = new VirtualServiceStringMatch { Prefix = $"/{api}/models/{split.Model}" },
                Headers = canaryHeader is null ? null : new SortedDictionary<string, VirtualServiceStringMatch>(StringComparer.Ordinal)
                {
                    [CanaryHeader] = new VirtualServiceStringMatch { Exact = canaryHeader },
                },
            }),
        ],
        Route = route,
    };

    private static VirtualServiceRouteDestination Destination(GatewaySplitTarget target, int? weight, PublishedGraph graph) => new()
    {
        Destination = new VirtualServiceDestination
        {
            Host = Host(target.Service, graph),
            Port = new VirtualServicePort { Number = EndpointPort.Of(target.Service).Single(p => !p.Http2).Port },
        },
        Weight = weight,
    };
}
