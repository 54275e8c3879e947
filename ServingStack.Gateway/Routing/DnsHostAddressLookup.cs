using System.Net;

namespace ServingStack.Gateway.Routing;

/// <summary>The system resolver (getaddrinfo): a headless Service's name gives the addresses of its ready pods.</summary>
internal sealed class DnsHostAddressLookup : IHostAddressLookup
{
    public Task<IPAddress[]> GetAddressesAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}
