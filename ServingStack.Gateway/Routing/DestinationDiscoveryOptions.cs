namespace ServingStack.Gateway.Routing;

/// <summary>
/// <c>Gateway:Discovery</c>: how destinations named by host (a Kubernetes headless Service, a service-discovery entry)
/// become one YARP destination per address, and how long a pooled connection to one lives.
/// </summary>
public sealed class DestinationDiscoveryOptions
{
    public const string SectionName = "Gateway:Discovery";

    /// <summary>
    /// Resolve each destination's host name and proxy to every address it has (a headless Service's pods), so load
    /// balancing and health checks see each pod. IP addresses and <c>localhost</c> are kept as they are.
    /// </summary>
    public bool ResolveAddresses { get; set; } = true;

    /// <summary>How often the addresses are resolved again, so pods that come and go are added and removed.</summary>
    public TimeSpan RefreshPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The longest a pooled connection to a destination is reused: long-lived HTTP/2 connections are replaced
    /// after it, so traffic sent to one address (a ClusterIP, a load balancer) spreads over new pods too.
    /// </summary>
    public TimeSpan ConnectionLifetime { get; set; } = TimeSpan.FromMinutes(1);
}
