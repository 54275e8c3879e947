using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Gateway.Security;

/// <summary>
/// Meets <see cref="BackendAdminRequirement"/> for the admin API key in its header (constant-time compare, as the admin
/// API checks it) or a caller with the admin role among its roles or scopes; never for an ordinary inference credential.
/// </summary>
public sealed class BackendAdminAuthorizationHandler(IOptions<GatewayOptions> gateway, IOptions<GatewaySecurityOptions> security)
    : AuthorizationHandler<BackendAdminRequirement>
{
    private readonly byte[]? _adminKey = string.IsNullOrEmpty(gateway.Value.AdminApiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(gateway.Value.AdminApiKey));
    private readonly string _adminKeyHeader = gateway.Value.AdminApiKeyHeader;
    private readonly string _adminRole = security.Value.Auth.AdminRole;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, BackendAdminRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (GatewayClaims.HasRole(context.User, _adminRole))
        {
            context.Succeed(requirement);
        }
        else if (_adminKey is not null && context.Resource is HttpContext http
            && http.Request.Headers[_adminKeyHeader].ToString() is { Length: > 0 } presented
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _adminKey))
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }
}
