using System.Net;

namespace ServingStack.Gateway.Routing;

/// <summary>A host name's addresses (DNS in production): the seam <see cref="PodAddressDestinationResolver"/> resolves through.</summary>
public interface IHostAddressLookup
{
    Task<IPAddress[]> GetAddressesAsync(string host, CancellationToken cancellationToken);
}
