using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Runs after service discovery (<c>http://_rest.inference</c> → <c>http://inference:8501</c>) and turns each destination
/// whose host is a name into one destination per address of that name: behind a headless Service, one per ready pod.
/// So YARP's load balancing, active and passive health checks and connect retry work per pod, and every pod gets its
/// own HTTP/2 connections. The names are resolved again every <see cref="DestinationDiscoveryOptions.RefreshPeriod"/>,
/// so pods added by a scale-out receive traffic and removed pods stop receiving it.
/// </summary>
public sealed partial class PodAddressDestinationResolver(
    IDestinationResolver inner,
    IHostAddressLookup lookup,
    IOptions<DestinationDiscoveryOptions> options,
    TimeProvider time,
    ILogger<PodAddressDestinationResolver> logger) : IDestinationResolver
{
    private readonly DestinationDiscoveryOptions _options = options.Value;

    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var discovered = await inner.ResolveDestinationsAsync(destinations, cancellationToken);
        if (!_options.ResolveAddresses)
        {
            return discovered;
        }

        var results = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal);
        foreach (var (name, destination) in discovered.Destinations)
        {
            foreach (var (resolvedName, resolved) in await ExpandAsync(name, destination, cancellationToken))
            {
                results[resolvedName] = resolved;
            }
        }

        // Resolve again after the refresh period, or as soon as service discovery's own entries change.
        var refresh = new CancellationChangeToken(new CancellationTokenSource(_options.RefreshPeriod, time).Token);
        IChangeToken changeToken = discovered.ChangeToken is { } own ? new CompositeChangeToken([own, refresh]) : refresh;
        return new ResolvedDestinationCollection(results, changeToken);
    }

    private async Task<List<KeyValuePair<string, DestinationConfig>>> ExpandAsync(string name, DestinationConfig destination, CancellationToken cancellationToken)
    {
        var unchanged = new List<KeyValuePair<string, DestinationConfig>> { new(name, destination) };
        if (!Uri.TryCreate(destination.Address, UriKind.Absolute, out var address) || address.HostNameType != UriHostNameType.Dns ||
            string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return unchanged;
        }

        IPAddress[] found;
        try
        {
            found = await lookup.GetAddressesAsync(address.DnsSafeHost, cancellationToken);
        }
        catch (SocketException ex)
        {
            // No ready pod (a headless Service's name does not resolve then) or DNS trouble: keep the name, so requests
            // fail as connect errors with the protocol's error shape, and try again at the next refresh.
            LogUnresolved(name, address.Host, ex.Message);
            return unchanged;
        }

        if (found.Length == 0)
        {
            LogUnresolved(name, address.Host, "no addresses");
            return unchanged;
        }

        var health = destination.Health is { Length: > 0 } h && Uri.TryCreate(h, UriKind.Absolute, out var healthUri) ? healthUri : null;
        var expanded = new List<KeyValuePair<string, DestinationConfig>>(found.Length);
        foreach (var ip in found.Distinct().OrderBy(a => a.ToString(), StringComparer.Ordinal))
        {
            var text = ip.ToString();
            expanded.Add(new($"{name}@{text}", destination with
            {
                Address = WithHost(address, text),
                Health = health is null ? destination.Health : WithHost(health, text),
                // The Host header stays the name the destination was configured with.
                Host = destination.Host is { Length: > 0 } host ? host : address.Authority,
            }));
        }

        LogResolved(name, address.Host, expanded.Count);
        return expanded;
    }

    private static string WithHost(Uri uri, string host) => new UriBuilder(uri) { Host = host }.Uri.ToString();

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "Destination {Destination}: host {Host} did not resolve ({Reason}); keeping it unresolved until the next refresh")]
    private partial void LogUnresolved(string destination, string host, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "Destination {Destination}: host {Host} resolved to {Count} address(es)")]
    private partial void LogResolved(string destination, string host, int count);
}
