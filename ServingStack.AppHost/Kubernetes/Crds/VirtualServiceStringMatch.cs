namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Exactly one of <see cref="Exact"/> and <see cref="Prefix"/>.</summary>
public sealed class VirtualServiceStringMatch
{
    public string? Exact { get; set; }

    public string? Prefix { get; set; }
}
