using System.Net.Http;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// YARP's client factory with a bounded connection lifetime: an HTTP/2 connection carries every request to its
/// destination for as long as it lives, so without a bound, traffic sent through one address (a ClusterIP Service, a
/// cloud load balancer) stays on the pods it first reached, and pods added later get none of it.
/// </summary>
public sealed class RebalancingForwarderHttpClientFactory(IOptions<DestinationDiscoveryOptions> options, ILogger<ForwarderHttpClientFactory> logger)
    : ForwarderHttpClientFactory(logger)
{
    private readonly TimeSpan _lifetime = options.Value.ConnectionLifetime;

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.PooledConnectionLifetime = _lifetime;
    }
}
