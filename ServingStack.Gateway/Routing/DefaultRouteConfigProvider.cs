using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// A second YARP configuration source beside <c>ReverseProxy</c>: the <see cref="DefaultRoutes"/> of the current
/// configuration, derived again whenever configuration reloads (a changed split, an added explicit route).
/// </summary>
public sealed partial class DefaultRouteConfigProvider(IConfiguration configuration, ILogger<DefaultRouteConfigProvider> logger) : IProxyConfigProvider
{
    public IProxyConfig GetConfig()
    {
        var token = configuration.GetReloadToken();
        var defaults = DefaultRoutes.Derive(configuration);
        IReadOnlyList<RouteConfig> routes = [.. defaults, .. Security.BackendAdminRoutes.Derive(configuration, defaults)];
        LogDerived(routes.Count, string.Join(", ", routes.Select(r => $"{r.RouteId} → {r.ClusterId}")));
        return new DerivedRoutes(routes, token);
    }

    [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, Message = "Default routes from the splits: {Count} ({Routes})")]
    private partial void LogDerived(int count, string routes);

    private sealed class DerivedRoutes(IReadOnlyList<RouteConfig> routes, IChangeToken changeToken) : IProxyConfig
    {
        public IReadOnlyList<RouteConfig> Routes { get; } = routes;

        public IReadOnlyList<ClusterConfig> Clusters { get; } = [];

        public IChangeToken ChangeToken { get; } = changeToken;
    }
}
