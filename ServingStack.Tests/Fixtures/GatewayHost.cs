using System.Net;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Tests.Fixtures;

/// <summary>The gateway in-process on 127.0.0.1 (REST and gRPC ports 0), configured from an in-memory dictionary.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly MemoryConfigurationProvider _memory;

    private GatewayHost(WebApplication app, CapturedLog log)
    {
        _app = app;
        Log = log;
        var endpoints = app.Services.GetRequiredService<GatewayEndpoints>();
        Address = new Uri($"http://127.0.0.1:{endpoints.RestPort}");
        GrpcAddress = new Uri($"http://127.0.0.1:{endpoints.GrpcPort}");
        Client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        GrpcChannel = GrpcChannel.ForAddress(GrpcAddress, new GrpcChannelOptions { MaxReceiveMessageSize = null });
        _memory = ((IConfigurationRoot)app.Configuration).Providers.OfType<MemoryConfigurationProvider>().Last();
    }

    public Uri Address { get; }

    public Uri GrpcAddress { get; }

    public HttpClient Client { get; }

    public GrpcChannel GrpcChannel { get; }

    public CapturedLog Log { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<GatewayHost> StartAsync(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var log = new CapturedLog();
        var all = new Dictionary<string, string?>(settings)
        {
            ["Gateway:ListenAddress"] = "127.0.0.1",
            ["Gateway:RestPort"] = "0",
            ["Gateway:GrpcPort"] = "0",
        };
        var app = GatewayApp.Create(["--environment=Testing"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(all);
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(log);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
            services?.Invoke(builder.Services);
        });
        await app.StartAsync();
        return new GatewayHost(app, log);
    }

    /// <summary>Changes settings in the in-memory source and reloads configuration, as a changed file would.</summary>
    public void Reconfigure(IDictionary<string, string?> changes)
    {
        foreach (var (key, value) in changes)
        {
            _memory.Set(key, value);
        }

        ((IConfigurationRoot)_app.Configuration).Reload();
    }

    public async ValueTask DisposeAsync()
    {
        GrpcChannel.Dispose();
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A URL of a loopback port that nothing listens on (bound, then released).</summary>
    public static string ClosedPortAddress()
    {
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return $"http://127.0.0.1:{((IPEndPoint)socket.LocalEndPoint!).Port}";
    }
}
