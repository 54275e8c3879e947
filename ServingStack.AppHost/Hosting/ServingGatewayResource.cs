namespace ServingStack.AppHost.Hosting;

/// <summary>The YARP gateway (ServingStack.Gateway): the services it routes to and the splits between them.</summary>
public sealed class ServingGatewayResource(string name) : ProjectResource(name)
{
    private readonly List<InferenceServiceResource> _services = [];
    private readonly List<GatewaySplit> _splits = [];

    /// <summary>The routed services; the first is where unsplit traffic goes.</summary>
    public IReadOnlyList<InferenceServiceResource> Services => _services;

    public IReadOnlyList<GatewaySplit> Splits => _splits;

    public int Replicas { get; set; } = 2;

    public ComputeResources Compute { get; set; } = new("250m", "256Mi", "1", "512Mi");

    internal void AddService(InferenceServiceResource service)
    {
        if (!_services.Contains(service))
        {
            _services.Add(service);
        }
    }

    internal void AddSplit(GatewaySplit split)
    {
        _splits.RemoveAll(s => s.Model == split.Model);
        _splits.Add(split);
    }

    /// <summary>
    /// The gateway's routing configuration as flat keys (<c>ReverseProxy:Clusters:...</c>, <c>Gateway:Splits:...</c>):
    /// environment variables locally and in the manifest, a ConfigMap (reloaded at run time) in Kubernetes.
    /// </summary>
    public SortedDictionary<string, string> RoutingConfiguration()
    {
        var config = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (_services.Count == 0)
        {
            return config;
        }

        // No routes: the gateway derives /v1, /v2 and the gRPC services' routes from the splits (the first split's stable
        // target) or, without splits, from its default clusters, so no value here holds a route template's braces,
        // which manifest tools read as placeholders.
        if (_splits.Count == 0)
        {
            Add("Gateway:DefaultCluster", _services[0].Name);
            Add("Gateway:DefaultGrpcCluster", GrpcCluster(_services[0]));
        }

        foreach (var service in _services)
        {
            // Service discovery names: "http://_rest.inference" resolves through services__inference__rest__N.
            Add($"ReverseProxy:Clusters:{service.Name}:Destinations:{service.Name}:Address", $"http://_rest.{service.Name}");
            var grpc = GrpcCluster(service);
            Add($"ReverseProxy:Clusters:{grpc}:Destinations:{service.Name}:Address", $"http://_grpc.{service.Name}");
            Add($"ReverseProxy:Clusters:{grpc}:HttpRequest:Version", "2");
            Add($"ReverseProxy:Clusters:{grpc}:HttpRequest:VersionPolicy", "RequestVersionExact");
        }

        foreach (var split in _splits)
        {
            var prefix = $"Gateway:Splits:{split.Model}";
            if (split.StickyHeader is { } sticky)
            {
                Add($"{prefix}:StickyHeader", sticky);
            }

            for (var i = 0; i < split.Targets.Count; i++)
            {
                var target = split.Targets[i];
                Add($"{prefix}:Targets:{i}:Name", target.Name);
                Add($"{prefix}:Targets:{i}:Cluster", target.Service.Name);
                Add($"{prefix}:Targets:{i}:GrpcCluster", GrpcCluster(target.Service));
                if (target.Label is { } label)
                {
                    Add($"{prefix}:Targets:{i}:Label", label);
                }

                if (target.Version is { } version)
                {
                    Add($"{prefix}:Targets:{i}:Version", version.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                Add($"{prefix}:Targets:{i}:Weight", target.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return config;

        void Add(string key, string value) => config[key] = value;
    }

    /// <summary>The YARP cluster for a service's gRPC port.</summary>
    public static string GrpcCluster(InferenceServiceResource service) => $"{service.Name}-grpc";
}
