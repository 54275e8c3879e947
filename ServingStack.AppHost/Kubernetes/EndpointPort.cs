namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// A resource's endpoint as a named container port: the graph's endpoint name and, in publish mode, its target port.
/// HTTP/2 endpoints (gRPC over h2c) say so to the Service (<c>appProtocol: kubernetes.io/h2c</c>).
/// </summary>
internal sealed record EndpointPort(string Name, int Port, bool Http2)
{
    public static IReadOnlyList<EndpointPort> Of(IResource resource, string prefix = "") =>
        resource.Annotations.OfType<EndpointAnnotation>()
            .Select(e => new EndpointPort(
                prefix + e.Name,
                e.TargetPort ?? throw new InvalidOperationException($"Endpoint '{resource.Name}/{e.Name}' has no target port in publish mode."),
                e.Transport == "http2"))
            .ToList();
}
