using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace ServingStack.Bench.Safety;

/// <summary>
/// Keeps load on this machine: a target's host must be a loopback address (127.0.0.0/8, ::1) or a name that resolves
/// only to loopback addresses (localhost). Checked once up front, with a clear message, and again at every connect, so
/// even a name that resolves differently later can never send load elsewhere.
/// </summary>
public static class LoopbackGuard
{
    private const string Rule = "ServingStack.Bench only sends load to loopback addresses (127.0.0.0/8, ::1, localhost)";

    /// <summary>Null when <paramref name="url"/>'s host is loopback; otherwise why it is refused.</summary>
    public static string? Check(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var host = url.IdnHost;
        if (IPAddress.TryParse(host, out var address))
        {
            return IsLoopback(address) ? null : $"Refusing '{url}': {address} is not a loopback address; {Rule}.";
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException ex)
        {
            return $"Refusing '{url}': host '{host}' does not resolve ({ex.SocketErrorCode}); {Rule}.";
        }

        var outside = addresses.Where(a => !IsLoopback(a)).ToArray();
        if (addresses.Length == 0 || outside.Length > 0)
        {
            var shown = addresses.Length == 0 ? "no address" : string.Join(", ", outside.Select(a => a.ToString()));
            return $"Refusing '{url}': host '{host}' resolves to {shown}, not only loopback; {Rule}.";
        }

        return null;
    }

    public static bool IsLoopback(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        // IPAddress.IsLoopback covers all of 127.0.0.0/8 and ::1.
        return IPAddress.IsLoopback(address);
    }

    /// <summary>
    /// A <see cref="SocketsHttpHandler.ConnectCallback"/> that resolves the host itself and connects only to its loopback
    /// addresses; a host with none fails the request before any packet leaves.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var endPoint = context.DnsEndPoint;
        var addresses = IPAddress.TryParse(endPoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        var loopback = addresses.Where(IsLoopback).ToArray();
        if (loopback.Length == 0 || loopback.Length != addresses.Length)
        {
            throw new HttpRequestException($"Refusing to connect to '{endPoint.Host}': {Rule}.");
        }

        Exception? last = null;
        foreach (var address in loopback)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endPoint.Port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new HttpRequestException($"Could not connect to {endPoint.Host}:{endPoint.Port}: {last?.Message}", last);
    }
}
