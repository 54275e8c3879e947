namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>A destination and its share of the route's requests; the weights of a route sum to 100.</summary>
public sealed class VirtualServiceRouteDestination
{
    public VirtualServiceDestination Destination { get; set; } = new();

    public int? Weight { get; set; }
}
