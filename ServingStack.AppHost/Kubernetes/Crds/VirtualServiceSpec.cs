namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>The hosts a VirtualService applies to, the Istio Gateways it binds to, and its HTTP routes, first match wins.</summary>
public sealed class VirtualServiceSpec
{
    public List<string> Hosts { get; set; } = [];

    public List<string>? Gateways { get; set; }

    public List<VirtualServiceHttpRoute> Http { get; set; } = [];
}
