namespace ServingStack.Gateway.Security;

/// <summary>The security parts of the <c>Gateway</c> section: <c>Auth</c>, <c>RateLimit</c> and <c>Tls</c>.</summary>
public sealed class GatewaySecurityOptions
{
    public GatewayAuthOptions Auth { get; set; } = new();

    public GatewayRateLimitOptions RateLimit { get; set; } = new();

    public GatewayTlsOptions Tls { get; set; } = new();
}
