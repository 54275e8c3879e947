using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Microsoft.Extensions.Hosting;

/// <summary>One rule for our listen-address settings, shared by the server and the gateway.</summary>
public static class KestrelListenExtensions
{
    /// <summary>
    /// <c>*</c>, <c>0.0.0.0</c>, <c>::</c> (or anything unparsable, which validation reports) listen everywhere; a port
    /// out of range (validation reports it too) adds no listener.
    /// </summary>
    public static void ListenOn(this KestrelServerOptions kestrel, string listenAddress, int port, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
        if (port is < IPEndPoint.MinPort or > IPEndPoint.MaxPort)
        {
            // Options validation reports it with every other problem; throwing here (Kestrel's options are read while
            // the host is built) would report it alone, as a crash.
            return;
        }

        if (listenAddress is "*" or "0.0.0.0" or "::" || !IPAddress.TryParse(listenAddress, out var address))
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else
        {
            kestrel.Listen(address, port, configure);
        }
    }
}
