namespace ServingStack.Gateway.Security;

/// <summary>
/// <c>Gateway:Auth</c>. When JWT or any API key is configured, every proxied (inference) route requires one of them
/// unless the route names its own <c>AuthorizationPolicy</c> (<c>anonymous</c>, <c>default</c>, or one of
/// <see cref="Policies"/>); with neither, inference stays open. Health, <c>/alive</c> and <c>/metrics</c> are always open.
/// </summary>
public sealed class GatewayAuthOptions
{
    public JwtAuthOptions Jwt { get; set; } = new();

    /// <summary>API keys by client name; sent in <see cref="ApiKeyHeader"/> or as <c>Authorization: ApiKey KEY</c>.</summary>
    public Dictionary<string, string> ApiKeys { get; } = new(StringComparer.Ordinal);

    public string ApiKeyHeader { get; set; } = "X-Api-Key";

    /// <summary>
    /// Scopes of an API key, by the client name it has in <see cref="ApiKeys"/>: roles for policies and the override
    /// permission, as a JWT's <c>scope</c> would carry them.
    /// </summary>
    public Dictionary<string, List<string>> ApiKeyScopes { get; } = new(StringComparer.Ordinal);

    /// <summary>The role (in a <c>role</c>/<c>roles</c> claim, or a <c>scope</c>/<c>scp</c> entry) that a JWT needs for the admin API.</summary>
    public string AdminRole { get; set; } = "servingstack-admin";

    /// <summary>The role (or scope entry, or API key scope) that lets a client use the override headers.</summary>
    public string OverrideRole { get; set; } = "servingstack-override";

    /// <summary>
    /// Let every client use the override headers (all but targets rolled back at run time). Unset: only in the
    /// Development environment, so that a local graph can be tried with <c>X-Canary</c> and nothing else can.
    /// </summary>
    public bool? AllowAnonymousOverrides { get; set; }

    /// <summary>Named policies for routes, by name (case-insensitive, as ASP.NET Core looks policies up).</summary>
    public Dictionary<string, GatewayAuthPolicyOptions> Policies { get; } = new(StringComparer.OrdinalIgnoreCase);

    public bool Enabled => Jwt.Enabled || ApiKeys.Count > 0;

    /// <summary>The authentication schemes configured: <c>Bearer</c> with JWT, <c>ApiKey</c> with any API key.</summary>
    public IReadOnlyList<string> ConfiguredSchemes()
    {
        var schemes = new List<string>(2);
        if (Jwt.Enabled)
        {
            schemes.Add(AuthSchemes.Bearer);
        }

        if (ApiKeys.Count > 0)
        {
            schemes.Add(AuthSchemes.ApiKey);
        }

        return schemes;
    }
}
