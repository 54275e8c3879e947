namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>TLS termination at the gateway (<c>SIMPLE</c>) with the certificate of a TLS Secret in the gateway pods' namespace.</summary>
public sealed class IstioGatewayTls
{
    public string Mode { get; set; } = "";

    public string? CredentialName { get; set; }
}
