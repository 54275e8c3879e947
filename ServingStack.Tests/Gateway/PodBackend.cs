using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServingStack.Inference.Protocols.OpenInference.Grpc;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// A minimal stand-in for one inference pod: Kestrel on its own loopback address (127.0.0.x) with the same REST and
/// gRPC ports as its siblings, as pods behind a headless Service have. It answers <c>/ready</c> (switchable), REST
/// requests with its address and connection, and Open Inference ModelInfer with the same in <c>id</c> and <c>model_name</c>.
/// </summary>
public sealed class PodBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PodBackend(WebApplication app, IPAddress address)
    {
        _app = app;
        Address = address;
    }

    public IPAddress Address { get; }

    /// <summary>What <c>/ready</c> answers: 200 when true, 503 when false.</summary>
    public bool Ready { get; set; } = true;

    public static async Task<PodBackend> StartAsync(IPAddress address, int restPort, int grpcPort)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, restPort, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(address, grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        PodBackend? backend = null;
        builder.Services.AddSingleton(_ => backend!);
        var app = builder.Build();
        backend = new PodBackend(app, address);
        app.MapGet("/ready", () => backend.Ready ? Results.Ok() : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        app.Map("/v1/{**rest}", (HttpContext context) => Results.Text($"{address} {context.Connection.Id}"));
        app.MapGrpcService<EchoInferenceService>();
        await app.StartAsync();
        return backend;
    }

    /// <summary>Two ports free on every one of <paramref name="addresses"/> (bound once on each to be sure, then released).</summary>
    public static (int RestPort, int GrpcPort) FreePorts(IReadOnlyList<IPAddress> addresses)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var rest = Probe(addresses[0], 0);
            var grpc = Probe(addresses[0], 0);
            if (rest > 0 && grpc > 0 && rest != grpc && addresses.Skip(1).All(a => Probe(a, rest) > 0 && Probe(a, grpc) > 0))
            {
                return (rest, grpc);
            }
        }

        throw new InvalidOperationException("no port pair free on every backend address");

        static int Probe(IPAddress address, int port)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(address, port));
                return ((IPEndPoint)socket.LocalEndPoint!).Port;
            }
            catch (SocketException)
            {
                return -1;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class EchoInferenceService(PodBackend backend) : GRPCInferenceService.GRPCInferenceServiceBase
    {
        public override Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context) =>
            Task.FromResult(new ModelInferResponse { Id = backend.Address.ToString(), ModelName = context.GetHttpContext().Connection.Id });
    }
}
