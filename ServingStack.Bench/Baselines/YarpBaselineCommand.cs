using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ServingStack.Bench.Cli;
using ServingStack.Bench.Safety;
using Yarp.ReverseProxy.Configuration;

namespace ServingStack.Bench.Baselines;

/// <summary>
/// <c>serve-yarp</c>: a bare YARP host, one catch-all route to one cluster with one destination and nothing else (no
/// auth, telemetry, health checks or middleware of ours): the floor that says what the gateway adds to YARP itself.
/// </summary>
public static class YarpBaselineCommand
{
    public static CommandSpec Command { get; } = new(
        "serve-yarp",
        "Serves a bare YARP reverse proxy (one route, one destination) on loopback until stopped: the gateway's floor.",
        [
            new("upstream", "URL", "The one destination (a loopback URL)"),
            new("port", "N", "Port to listen on, at 127.0.0.1 (HTTP/1.1)", "18801"),
        ],
        ["serve-yarp --upstream http://127.0.0.1:8501 --port 18801"]);

    public static async Task<int> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var parsed = ParsedArguments.Parse(Command, args);
        if (parsed.HelpRequested)
        {
            HelpWriter.WriteCommand(Console.Out, Command);
            return ExitCodes.Success;
        }

        var upstream = parsed.Require("upstream");
        var port = parsed.Int("port", 18801, 1, 65535);
        List<string> errors = [.. parsed.Errors];
        if (upstream is not null)
        {
            if (!Uri.TryCreate(upstream, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                errors.Add($"--upstream must be an absolute http(s) URL, not '{upstream}'.");
            }
            else if (LoopbackGuard.Check(url) is { } refused)
            {
                errors.Add(refused);
            }
        }

        if (errors.Count > 0)
        {
            HelpWriter.WriteErrors(Console.Error, Command, errors);
            return ExitCodes.BadArguments;
        }

        // What a user's first YARP host looks like (the Web SDK's builder), less per-request logging.
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1));
        RouteConfig[] routes = [new() { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**catch-all}" } }];
        ClusterConfig[] clusters =
        [
            new()
            {
                ClusterId = "upstream",
                Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { ["a"] = new() { Address = upstream! } },
            },
        ];
        builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);
        await using var app = builder.Build();
        app.MapReverseProxy();
        Console.WriteLine($"serve-yarp: http://127.0.0.1:{port} -> {upstream}");
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
        return ExitCodes.Success;
    }
}
