namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>One listener: its port, the hosts it accepts, and its TLS.</summary>
public sealed class IstioGatewayServer
{
    public IstioGatewayPort Port { get; set; } = new();

    public List<string> Hosts { get; set; } = [];

    public IstioGatewayTls? Tls { get; set; }
}
