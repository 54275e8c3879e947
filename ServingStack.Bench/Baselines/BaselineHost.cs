using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ServingStack.Bench.Baselines;

/// <summary>
/// The smallest Kestrel host a gRPC service needs: h2c on one loopback port, no logging, no middleware. Shared by the
/// baselines so that they differ from each other only in their ModelInfer.
/// </summary>
public static class BaselineHost
{
    /// <summary>Serves <typeparamref name="TService"/> (registered as <paramref name="service"/>) until stopped.</summary>
    public static async Task RunAsync<TService>(TService service, int port, CancellationToken cancellationToken)
        where TService : class
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc => grpc.MaxReceiveMessageSize = 1 << 30);
        builder.Services.AddSingleton(service);
        await using var app = builder.Build();
        app.MapGrpcService<TService>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);

        // run-benchmarks.sh waits for this line.
        Console.Out.WriteLine($"listening on http://127.0.0.1:{port} ({typeof(TService).Name})");
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
    }
}
