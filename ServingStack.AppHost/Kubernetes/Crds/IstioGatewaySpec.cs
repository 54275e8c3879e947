namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Which ingress gateway pods (by label, in any namespace) listen, and on what.</summary>
public sealed class IstioGatewaySpec
{
    public SortedDictionary<string, string> Selector { get; set; } = new(StringComparer.Ordinal);

    public List<IstioGatewayServer> Servers { get; set; } = [];
}
