namespace ServingStack.Gateway.Security;

/// <summary>
/// A named authorization policy (<c>Gateway:Auth:Policies:{name}</c>) that a proxy route selects with YARP's own
/// <c>ReverseProxy:Routes:{id}:AuthorizationPolicy</c>.
/// </summary>
public sealed class GatewayAuthPolicyOptions
{
    /// <summary><c>Bearer</c> and/or <c>ApiKey</c>; empty: every configured scheme.</summary>
    public List<string> Schemes { get; } = [];

    /// <summary>
    /// Any one of these roles is required, in a JWT <c>role</c>/<c>roles</c> claim or a <c>scope</c>/<c>scp</c> entry, or
    /// among an API key's <see cref="GatewayAuthOptions.ApiKeyScopes"/>; empty: any authenticated caller.
    /// </summary>
    public List<string> Roles { get; } = [];
}
