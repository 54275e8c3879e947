namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>A Service port by number.</summary>
public sealed class VirtualServicePort
{
    public int Number { get; set; }
}
