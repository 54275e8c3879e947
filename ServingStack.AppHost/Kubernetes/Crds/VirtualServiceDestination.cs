namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>A Service by its fully qualified name (<c>{service}.{namespace}.svc.cluster.local</c>) and one of its ports.</summary>
public sealed class VirtualServiceDestination
{
    public string Host { get; set; } = "";

    public VirtualServicePort Port { get; set; } = new();
}
