namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>The listener port: number, a name, and its protocol (<c>HTTPS</c>).</summary>
public sealed class IstioGatewayPort
{
    public int Number { get; set; }

    public string Name { get; set; } = "";

    public string Protocol { get; set; } = "";
}
