namespace ServingStack.Gateway.Security;

/// <summary><c>Gateway:Tls</c>: with a certificate, both listeners use TLS (REST: HTTPS; gRPC: HTTP/2 over TLS).</summary>
public sealed class GatewayTlsOptions
{
    /// <summary>A PEM certificate (with <see cref="KeyPath"/>), or a PFX/PKCS#12 file (with <see cref="Password"/> if any).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key of a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(CertificatePath);
}
