using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServingStack.Inference.Hosting;
using ServingStack.Inference.Repository;

namespace ServingStack.Tests.Fixtures;

/// <summary>The real server (Kestrel, ONNX Runtime) on free loopback ports: REST (HTTP/1.1) and gRPC (h2c).</summary>
public sealed class InferenceServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InferenceServer(WebApplication app, Uri address, Uri grpcAddress, CapturedLog log)
    {
        _app = app;
        Address = address;
        GrpcAddress = grpcAddress;
        Log = log;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        GrpcChannel = GrpcChannel.ForAddress(grpcAddress, new GrpcChannelOptions { MaxReceiveMessageSize = null });
    }

    /// <summary>The REST listener.</summary>
    public Uri Address { get; }

    public HttpClient Client { get; }

    /// <summary>The gRPC listener (plain-text HTTP/2).</summary>
    public Uri GrpcAddress { get; }

    public GrpcChannel GrpcChannel { get; }

    public CapturedLog Log { get; }

    public ModelManager Models => _app.Services.GetRequiredService<ModelManager>();

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts the server with tensorflow_model_server-style <paramref name="args"/> on 127.0.0.1, both ports 0.</summary>
    public static async Task<InferenceServer> StartAsync(params string[] args)
    {
        var log = new CapturedLog();
        string[] all = [.. args, "--rest_api_port=0", "--drain_delay_seconds=0", "--port=0", "--listen_address=127.0.0.1", "--environment=Testing"];
        var app = InferenceServerApp.Create(all, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(log);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        });
        await app.StartAsync();

        // Kestrel's address list cannot tell the two listeners apart; the server records which is which.
        var endpoints = app.Services.GetRequiredService<ServingEndpoints>();
        return new InferenceServer(app, Loopback(endpoints.RestPort), Loopback(endpoints.GrpcPort), log);
    }

    /// <summary>Starts and waits until every configured model has an AVAILABLE version (or a load has ended).</summary>
    public static async Task<InferenceServer> StartReadyAsync(params string[] args)
    {
        var server = await StartAsync(args);
        await Eventually.TrueAsync(() => server.Models.Models.All(m => m.Versions.Count > 0 && m.Versions.All(v =>
            v.State is ModelVersionState.Available or ModelVersionState.End)), "models to finish loading");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        GrpcChannel.Dispose();
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static Uri Loopback(int? port) =>
        port is > 0 ? new Uri($"http://127.0.0.1:{port}") : throw new InvalidOperationException($"the server reported no bound port ({port})");
}
