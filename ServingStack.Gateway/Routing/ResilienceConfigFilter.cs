using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Gives every cluster, from configuration or resolved by Aspire service discovery, active checks of <c>/ready</c>
/// (consecutive failures) and passive ejection after consecutive transport failures on the destination's side
/// (<see cref="ConsecutiveFailuresPassivePolicy"/>), unless the cluster configures its own.
/// </summary>
public sealed class ResilienceConfigFilter(IOptions<ResilienceOptions> options) : IProxyConfigFilter
{
    private readonly ResilienceOptions _options = options.Value;

    public ValueTask<ClusterConfig> ConfigureClusterAsync(ClusterConfig cluster, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (!_options.HealthCheckDefaults)
        {
            return ValueTask.FromResult(cluster);
        }

        var own = cluster.HealthCheck;
        var health = new HealthCheckConfig
        {
            Active = own?.Active ?? new ActiveHealthCheckConfig
            {
                Enabled = true,
                Path = _options.ActivePath,
                Interval = _options.ActiveInterval,
                Timeout = _options.ActiveTimeout,
                Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
            },
            Passive = own?.Passive ?? new PassiveHealthCheckConfig
            {
                Enabled = true,
                Policy = ConsecutiveFailuresPassivePolicy.PolicyName,
                ReactivationPeriod = _options.ReactivationPeriod,
            },
            // When every destination looks unhealthy, try them all rather than answer 503 from the gateway.
            AvailableDestinationsPolicy = own?.AvailableDestinationsPolicy ?? HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
        };
        return ValueTask.FromResult(cluster with { HealthCheck = health });
    }

    public ValueTask<RouteConfig> ConfigureRouteAsync(RouteConfig route, ClusterConfig? cluster, CancellationToken cancel) =>
        ValueTask.FromResult(route);
}
