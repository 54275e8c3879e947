using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Microsoft.Extensions.Hosting;

/// <summary>One rule for our listen-address settings, shared by the server and the gateway.</summary>
public static class KestrelListenExtensions
{
    /// <summary><c>*</c>, <c>0.0.0.0</c>, <c>::</c> (or anything unparsable, which validation reports) listen everywhere.</summary>
    public static void ListenOn(this KestrelServerOptions kestrel, string listenAddress, int port, Action<ListenOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(kestrel);
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
