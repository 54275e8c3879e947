using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;

namespace ServingStack.Gateway.Security;

/// <summary>
/// Secure by default: when a credential is configured, a proxy route that names no <c>AuthorizationPolicy</c> gets
/// YARP's <c>default</c> (the application's default policy: any configured credential). Routes that name a policy keep
/// it; a route that needs a credential while none is configured is refused, at start and on a reload.
/// </summary>
public sealed class RouteAuthorizationConfigFilter(IOptions<GatewaySecurityOptions> security) : IProxyConfigFilter
{
    private readonly GatewayAuthOptions _auth = security.Value.Auth;

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel) => ValueTask.FromResult(cluster);

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(route);
        var policy = route.AuthorizationPolicy;
        if (string.IsNullOrEmpty(policy))
        {
            return ValueTask.FromResult(_auth.Enabled ? route with { AuthorizationPolicy = AuthSchemes.DefaultPolicy } : route);
        }

        if (!_auth.Enabled && !string.Equals(policy, AuthSchemes.AnonymousPolicy, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(policy, AuthSchemes.AdminPolicy, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"Route '{route.RouteId}' requires authorization policy '{policy}', but Gateway:Auth configures no credential (Jwt or ApiKeys).");
        }

        return ValueTask.FromResult(route);
    }
}
