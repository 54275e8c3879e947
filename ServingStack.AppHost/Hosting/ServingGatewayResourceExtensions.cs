namespace ServingStack.AppHost.Hosting;

public static class ServingGatewayResourceExtensions
{
    /// <summary>
    /// Adds the YARP gateway: REST (<c>rest</c>, HTTP/1.1, container port 8080) and gRPC (<c>grpc</c>, h2c, 8081). Its
    /// routes, clusters and splits come from the services and splits added to it.
    /// </summary>
    public static IResourceBuilder<ServingGatewayResource> AddServingGateway(this IDistributedApplicationBuilder builder, string name, int? restPort = null, int? grpcPort = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var publish = builder.ExecutionContext.IsPublishMode;
        var resource = new ServingGatewayResource(name);
        return builder.AddResource(resource)
            .WithServingDefaults(new Projects.ServingStack_Gateway())
            .WithHttpEndpoint(name: "rest", port: restPort, targetPort: publish ? ServingPaths.GatewayRestPort : null, env: "Gateway__RestPort")
            .WithHttpEndpoint(name: "grpc", port: grpcPort, targetPort: publish ? ServingPaths.GatewayGrpcPort : null, env: "Gateway__GrpcPort")
            .WithEndpoint("grpc", endpoint => endpoint.Transport = "http2")
            .WithHttpHealthCheck("/health", endpointName: "rest")
            .WithEnvironment(context =>
            {
                foreach (var (key, value) in resource.RoutingConfiguration())
                {
                    context.EnvironmentVariables[key.Replace(":", "__", StringComparison.Ordinal)] = value;
                }
            });
    }

    /// <summary>
    /// Route to <paramref name="service"/> (through service discovery), starting once it is healthy. The discovery
    /// entries (<c>services__{service}__{endpoint}__0</c>) are written as <c>http://{host}:{port}</c> rather than as the
    /// endpoint's URL expression, which deployment tools may render without its scheme.
    /// </summary>
    public static IResourceBuilder<ServingGatewayResource> WithReference(this IResourceBuilder<ServingGatewayResource> builder, IResourceBuilder<InferenceServiceResource> service)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(service);
        builder.Resource.AddService(service.Resource);
        foreach (var name in new[] { "rest", "grpc" })
        {
            var endpoint = service.GetEndpoint(name);
            builder.WithEnvironment($"services__{service.Resource.Name}__{name}__0",
                ReferenceExpression.Create($"http://{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)}"));
        }

        return builder.WithReferenceRelationship(service).WaitFor(service);
    }

    /// <summary>
    /// Splits <paramref name="model"/>'s traffic: <paramref name="canaryWeight"/>% to <paramref name="canary"/>, the rest to
    /// <paramref name="stable"/>. Each target is pinned to the version its service serves (by label when it has one, so
    /// TF Serving REST asks for <c>/labels/stable</c>); requests with the same <paramref name="stickyHeader"/> value stay on
    /// one target. The weights change at run time through the gateway's admin API or its ConfigMap.
    /// </summary>
    public static IResourceBuilder<ServingGatewayResource> WithSplit(this IResourceBuilder<ServingGatewayResource> builder, string model, IResourceBuilder<InferenceServiceResource> stable, IResourceBuilder<InferenceServiceResource> canary, int canaryWeight, string? stickyHeader = "X-User-Id")
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(stable);
        ArgumentNullException.ThrowIfNull(canary);
        ArgumentOutOfRangeException.ThrowIfNegative(canaryWeight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(canaryWeight, 100);
        builder.WithReference(stable).WithReference(canary);
        builder.Resource.AddSplit(new GatewaySplit(model, [Target("stable", stable.Resource, 100 - canaryWeight), Target("canary", canary.Resource, canaryWeight)], stickyHeader));
        return builder;

        GatewaySplitTarget Target(string name, InferenceServiceResource service, int weight)
        {
            var served = service.Models.FirstOrDefault(m => m.Name == model)
                ?? throw new InvalidOperationException($"Split '{model}': '{service.Name}' does not serve '{model}'; call WithModel(\"{model}\", ...) on it first.");
            if (served.VersionOf(name) is { } labelled)
            {
                return new GatewaySplitTarget(name, service, name, labelled, weight);
            }

            // Open Inference has no labels: pin the version when the service serves exactly one, else its latest.
            return new GatewaySplitTarget(name, service, null, served.Versions.Count == 1 ? served.Versions[0] : null, weight);
        }
    }
}
