using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ServingStack.Tests.Fixtures;

/// <summary>
/// A model source over HTTP, on a free 127.0.0.1 port (Kestrel): <c>/models/index.json</c> is the index document of
/// the files under <see cref="Root"/> (sizes and SHA-256, computed on each request), and <c>/models/{path}</c> serves
/// each file. Tests can lie in the index (<see cref="Sha256Overrides"/>) and slow the bodies down (<see cref="BytesPerSecond"/>).
/// </summary>
public sealed class HttpModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (long Size, DateTime Written, string Sha256)> _hashes = new();

    private HttpModelServer(WebApplication app, string root, Uri address)
    {
        _app = app;
        Root = root;
        Address = address;
    }

    public string Root { get; }

    public Uri Address { get; }

    public Uri IndexUri => new(Address, "/models/index.json");

    /// <summary>path → the sha256 the index claims instead of the real one.</summary>
    public ConcurrentDictionary<string, string> Sha256Overrides { get; } = new();

    /// <summary>Throttles file bodies to about this rate; null sends at full speed.</summary>
    public long? BytesPerSecond { get; set; }

    /// <summary>File requests served so far, by path.</summary>
    public ConcurrentDictionary<string, int> Requests { get; } = new();

    public static async Task<HttpModelServer> StartAsync(string root)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        HttpModelServer? server = null;
        app.MapGet("/models/index.json", () => Results.Text(server!.BuildIndex().ToJsonString(), "application/json"));
        app.MapGet("/models/{**path}", (string path, HttpContext context) => server!.ServeAsync(path, context));
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        server = new HttpModelServer(app, root, address);
        return server;
    }

    /// <summary>The index for everything under <see cref="Root"/>, with overrides applied.</summary>
    public JsonObject BuildIndex()
    {
        var files = new JsonArray();
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var path = Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/');
            var info = new FileInfo(file);
            var sha256 = Sha256Overrides.TryGetValue(path, out var forced) ? forced : Hash(info);
            files.Add(new JsonObject { ["path"] = path, ["size"] = info.Length, ["sha256"] = sha256 });
        }

        return new JsonObject { ["files"] = files };
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(string path, HttpContext context)
    {
        var full = Path.GetFullPath(Path.Combine(Root, path));
        if (!full.StartsWith(Path.GetFullPath(Root) + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full))
        {
            context.Response.StatusCode = 404;
            return;
        }

        Requests.AddOrUpdate(path, 1, (_, n) => n + 1);
        await using var file = File.OpenRead(full);
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = file.Length;
        var buffer = new byte[64 * 1024];
        var started = System.Diagnostics.Stopwatch.StartNew();
        long sent = 0;
        int read;
        while ((read = await file.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            sent += read;
            if (BytesPerSecond is { } rate)
            {
                // Pace the body: a throttle, not synchronisation.
                var due = TimeSpan.FromSeconds((double)sent / rate) - started.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, context.RequestAborted);
                }
            }
        }
    }

    private string Hash(FileInfo info)
    {
        var key = info.FullName;
        if (_hashes.TryGetValue(key, out var cached) && cached.Size == info.Length && cached.Written == info.LastWriteTimeUtc)
        {
            return cached.Sha256;
        }

        using var stream = info.OpenRead();
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        _hashes[key] = (info.Length, info.LastWriteTimeUtc, sha256);
        return sha256;
    }
}
