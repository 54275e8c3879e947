using System.Net;
using System.Net.Http;
using Grpc.Net.Client;
using ServingStack.Bench.Safety;

namespace ServingStack.Bench.Remote;

/// <summary>The one HttpClient (REST) or GrpcChannel (gRPC) of a run; both connect only to loopback addresses.</summary>
public static class LoopbackClients
{
    /// <summary>HTTP/1.1 client with enough connections for every worker to have its own.</summary>
    public static HttpClient CreateHttpClient(int maxConnections, TimeSpan requestTimeout)
    {
        var handler = CreateHandler(maxConnections);
        return new HttpClient(handler, disposeHandler: true)
        {
            Timeout = requestTimeout,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>
    /// gRPC over HTTP/2 without TLS (h2c, the scheme is http://). One channel shared by every worker; it opens more
    /// HTTP/2 connections when one's stream limit is reached.
    /// </summary>
    public static GrpcChannel CreateGrpcChannel(Uri address)
    {
        var handler = CreateHandler(int.MaxValue);
        handler.EnableMultipleHttp2Connections = true;
        handler.KeepAlivePingDelay = TimeSpan.FromSeconds(60);
        handler.KeepAlivePingTimeout = TimeSpan.FromSeconds(30);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 1 << 30,
            MaxSendMessageSize = 1 << 30,
        });
    }

    private static SocketsHttpHandler CreateHandler(int maxConnections) => new()
    {
        MaxConnectionsPerServer = maxConnections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectCallback = LoopbackGuard.ConnectAsync,
    };
}
