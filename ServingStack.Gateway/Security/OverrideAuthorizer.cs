using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Gateway.Security;

/// <summary>
/// Decides who may use the override headers: the admin (the admin API key, or a credential with
/// <see cref="GatewayAuthOptions.AdminRole"/>), a credential with <see cref="GatewayAuthOptions.OverrideRole"/> (a JWT
/// role or scope entry, or an API key's scope), and everyone only when <see cref="GatewayAuthOptions.AllowAnonymousOverrides"/>
/// says so (by default only in the Development environment). Asked only for requests that carry an override header.
/// </summary>
public sealed class OverrideAuthorizer
{
    private readonly GatewayAuthOptions _auth;
    private readonly byte[]? _adminKey;
    private readonly string _adminKeyHeader;
    private readonly bool _anonymous;

    public OverrideAuthorizer(IOptions<GatewayOptions> gateway, IOptions<GatewaySecurityOptions> security, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(security);
        ArgumentNullException.ThrowIfNull(environment);
        _auth = security.Value.Auth;
        _adminKey = string.IsNullOrEmpty(gateway.Value.AdminApiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(gateway.Value.AdminApiKey));
        _adminKeyHeader = gateway.Value.AdminApiKeyHeader;
        _anonymous = _auth.AllowAnonymousOverrides ?? environment.IsDevelopment();
    }

    public async ValueTask<OverrideAccess> EvaluateAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var presented = context.Request.Headers[_adminKeyHeader].ToString();
        if (_adminKey is not null && presented.Length > 0
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _adminKey))
        {
            return OverrideAccess.Admin;
        }

        if (await PrincipalAsync(context) is { } principal)
        {
            if (GatewayClaims.HasRole(principal, _auth.AdminRole))
            {
                return OverrideAccess.Admin;
            }

            if (GatewayClaims.HasRole(principal, _auth.OverrideRole))
            {
                return OverrideAccess.Override;
            }
        }

        return _anonymous ? OverrideAccess.Override : OverrideAccess.None;
    }

    /// <summary>
    /// The caller as the route's authorization saw it; on a route open to anyone (nothing authenticated the caller), the
    /// credential presented, if valid.
    /// </summary>
    private async ValueTask<ClaimsPrincipal?> PrincipalAsync(HttpContext context)
    {
        if (context.User.Identity?.IsAuthenticated == true)
        {
            return context.User;
        }

        var request = context.Request;
        if (_auth.Jwt.Enabled && request.Headers.Authorization.ToString().StartsWith(AuthSchemes.Bearer + " ", StringComparison.OrdinalIgnoreCase))
        {
            var result = await context.AuthenticateAsync(AuthSchemes.Bearer);
            return result.Succeeded ? result.Principal : null;
        }

        if (_auth.ApiKeys.Count > 0 && ApiKeyAuthenticationHandler.PresentedKey(request, _auth.ApiKeyHeader) is not null)
        {
            var result = await context.AuthenticateAsync(AuthSchemes.ApiKey);
            return result.Succeeded ? result.Principal : null;
        }

        return null;
    }
}
