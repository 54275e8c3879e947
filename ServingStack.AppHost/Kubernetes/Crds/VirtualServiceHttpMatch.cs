namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Conditions on the URI and on request headers (names in lower case, as Istio requires).</summary>
public sealed class VirtualServiceHttpMatch
{
    public VirtualServiceStringMatch? Uri { get; set; }

    public SortedDictionary<string, VirtualServiceStringMatch>? Headers { get; set; }
}
