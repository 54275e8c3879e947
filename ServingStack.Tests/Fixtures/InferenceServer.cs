using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServingStack.Inference.Hosting;
using ServingStack.Inference.Repository;

namespace ServingStack.Tests.Fixtures;

/// <summary>The real server (Kestrel, ONNX Runtime) on a free loopback port.</summary>
public sealed class InferenceServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InferenceServer(WebApplication app, Uri address, CapturedLog log)
    {
        _app = app;
        Address = address;
        Log = log;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri Address { get; }

    public HttpClient Client { get; }

    public CapturedLog Log { get; }

    public ModelManager Models => _app.Services.GetRequiredService<ModelManager>();

    /// <summary>Starts the server with tensorflow_model_server-style <paramref name="args"/> on 127.0.0.1:0.</summary>
    public static async Task<InferenceServer> StartAsync(params string[] args)
    {
        var log = new CapturedLog();
        string[] all = [.. args, "--rest_api_port=0", "--listen_address=127.0.0.1", "--environment=Testing"];
        var app = InferenceServerApp.Create(all, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(log);
            builder.Logging.SetMinimumLevel(LogLevel.Debug);
        });
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new InferenceServer(app, new Uri(addresses.First()), log);
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
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
