namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>One HTTP route: any of its matches (each an AND of its conditions) sends the request to its weighted destinations.</summary>
public sealed class VirtualServiceHttpRoute
{
    public string? Name { get; set; }

    public List<VirtualServiceHttpMatch>? Match { get; set; }

    public List<VirtualServiceRouteDestination> Route { get; set; } = [];
}
