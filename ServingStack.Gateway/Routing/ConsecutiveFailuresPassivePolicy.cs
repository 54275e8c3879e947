using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Splits;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Passive health policy <c>ConsecutiveTransportFailures</c>: a destination is ejected after
/// <see cref="ResilienceOptions.PassiveConsecutiveFailures"/> transport failures in a row on its side (a refused or
/// broken connect, a timeout, a destination that stopped reading or answering), for the cluster's passive
/// <c>ReactivationPeriod</c>; any answer resets the count. Unlike YARP's <c>TransportFailureRate</c>, a dead destination
/// is ejected after a few requests rather than once failures reach a share of a minute's traffic, and failures the
/// client caused (a cancel, a broken upload) do not count, so that no client can eject a healthy destination.
/// </summary>
public sealed class ConsecutiveFailuresPassivePolicy(
    IDestinationHealthUpdater healthUpdater,
    IServiceProvider services,
    IOptions<ResilienceOptions> options) : IPassiveHealthCheckPolicy
{
    public const string PolicyName = "ConsecutiveTransportFailures";

    private readonly ConditionalWeakTable<DestinationState, StrongBox<int>> _failures = new();
    private readonly ResilienceOptions _options = options.Value;

    public string Name => PolicyName;

    public void RequestProxied(HttpContext context, ClusterState cluster, DestinationState destination)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(destination);
        var count = _failures.GetValue(destination, _ => new StrongBox<int>());
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error;
        if (error is null or ForwarderError.None)
        {
            // Read before writing: on the common path (no failures) every request would otherwise write the one
            // shared counter of its destination.
            if (Volatile.Read(ref count.Value) != 0)
            {
                Interlocked.Exchange(ref count.Value, 0);
            }

            return;
        }

        if (!RequestOutcomeClassifier.IsDestinationError(error.Value) || error == ForwarderError.NoAvailableDestinations)
        {
            return;
        }

        if (Interlocked.Increment(ref count.Value) < _options.PassiveConsecutiveFailures)
        {
            return;
        }

        // YARP hands the route's cluster; a request the split reassigned ran on another one, whose destination list is
        // the one to update.
        var proxied = context.GetReverseProxyFeature().Cluster.Config.ClusterId;
        // Looked up when needed: YARP's configuration (the state lookup) is itself built from the policies.
        var owner = proxied != cluster.ClusterId && services.GetRequiredService<IProxyStateLookup>().TryGetCluster(proxied, out var reassigned) ? reassigned : cluster;
        var reactivation = owner.Model.Config.HealthCheck?.Passive?.ReactivationPeriod ?? _options.ReactivationPeriod;
        healthUpdater.SetPassive(owner, destination, DestinationHealth.Unhealthy, reactivation);
    }
}
