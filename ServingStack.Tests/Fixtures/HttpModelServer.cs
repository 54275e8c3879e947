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
/// each file. Tests can lie in the index (<see cref="Sha256Overrides"/>), slow the bodies down (<see cref="BytesPerSecond"/>),
/// stall them (<see cref="StallAfter"/>) or answer any request themselves (<see cref="Intercept"/>).
/// </summary>
public sealed class HttpModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (long Size, DateTime Written, string Sha256)> _hashes = new();
    private readonly CancellationTokenSource _releaseStalls = new();
    private int _stalls;

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

    /// <summary>
    /// path → after how many bytes of its body the server stops sending (the headers announce the whole length) and
    /// holds the connection open until the client gives up or the server is disposed, then aborts it; null sends all.
    /// </summary>
    public Func<string, long?>? StallAfter { get; set; }

    /// <summary>File bodies stalled so far.</summary>
    public int Stalls => Volatile.Read(ref _stalls);

    /// <summary>Runs before the model routes; when it returns true it has answered the request (a broken or hostile server).</summary>
    public Func<HttpContext, Task<bool>>? Intercept { get; set; }

    /// <summary>Starts serving <paramref name="root"/>; on <paramref name="port"/> when given (a server that comes back where it was).</summary>
    public static async Task<HttpModelServer> StartAsync(string root, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        HttpModelServer? server = null;
        app.Use(async (context, next) =>
        {
            if (server?.Intercept is not { } intercept || !await intercept(context))
            {
                await next(context);
            }
        });
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
        // Stalled bodies let go first, or the host would wait out its shutdown timeout for them.
        await _releaseStalls.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _releaseStalls.Dispose();
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
        var stallAfter = StallAfter?.Invoke(path);
        long sent = 0;
        int read;
        while ((read = await file.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            if (stallAfter is { } limit && sent + read > limit)
            {
                await StallAsync(context, buffer.AsMemory(0, (int)Math.Max(0, limit - sent)));
                return;
            }

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

    /// <summary>Sends the last bytes before the stall, then nothing until the client or the fixture gives up; then a reset.</summary>
    private async Task StallAsync(HttpContext context, ReadOnlyMemory<byte> last)
    {
        await context.Response.Body.WriteAsync(last, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        Interlocked.Increment(ref _stalls);
        using var held = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _releaseStalls.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, held.Token);
        }
        catch (OperationCanceledException)
        {
        }

        context.Abort();
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
