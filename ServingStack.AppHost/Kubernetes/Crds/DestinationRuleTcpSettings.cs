namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>TCP limits: open connections, and how long a connect may take.</summary>
public sealed class DestinationRuleTcpSettings
{
    public int? MaxConnections { get; set; }

    public string? ConnectTimeout { get; set; }
}
