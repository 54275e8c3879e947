using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Grpc.Net.Client;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Hosting;

/// <summary>
/// SIGTERM under keep-alive load, as in a Deployment's rolling update: the pod leaves the Service at once, but clients
/// keep their open connections to it. The drain must move them off (HTTP/1.1 <c>Connection: close</c>, HTTP/2
/// GOAWAY) while the listener is still open, so no request is ever sent on a connection the server then drops.
/// </summary>
public sealed class ShutdownDrainTests : IDisposable
{
    private const int Http1Clients = 4;
    private const int GrpcClients = 2;
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Sigterm_under_keep_alive_load_moves_every_client_to_another_replica_before_the_listener_closes_and_loses_nothing()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        string[] model = ["--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}"];
        await using var replica = await InferenceServer.StartReadyAsync(model);
        await using var draining = await ServerProcess.StartAsync([.. model, "--drain_delay_seconds=3", "--shutdown_grace_seconds=10"]);

        // The Service: where a new connection goes (kube-proxy picks at connect time). Open connections stay put.
        var service = new Endpoints(Loopback(draining.RestAddress), Loopback(draining.GrpcAddress));
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(1, seed: 3)) }.ToJsonString());
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var http1 = Enumerable.Range(0, Http1Clients).Select(_ => new Http1Load(service, draining.RestAddress.Port, body, failures)).ToArray();
        var grpc = Enumerable.Range(0, GrpcClients).Select(_ => new GrpcLoad(service, draining.GrpcAddress.Port, failures)).ToArray();
        var running = http1.Select(l => Task.Run(() => l.RunAsync(stop.Token)))
            .Concat(grpc.Select(l => Task.Run(() => l.RunAsync(stop.Token)))).ToArray();

        await Eventually.TrueAsync(() => http1.All(l => l.ServedByDraining >= 20) && grpc.All(l => l.Calls >= 20), "keep-alive load on the first replica");
        Assert.All(http1, l => Assert.Equal(1, l.ConnectionsToDraining));

        service.Set(Loopback(replica.Address), Loopback(replica.GrpcAddress));
        draining.SendSigterm();
        var listenerClosed = WhenListenerClosesAsync(Loopback(draining.RestAddress));
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await draining.WaitForExitAsync(exit.Token);
        }

        var closedAt = await listenerClosed;
        await Eventually.TrueAsync(() => http1.All(l => l.ServedByReplica > 0) && grpc.All(l => l.ConnectedToReplicaAt > 0), "every client to reach the other replica");
        await stop.CancelAsync();
        await Task.WhenAll(running);

        Assert.Empty(failures);
        Assert.True(draining.ExitCode == 0, draining.Output);
        foreach (var load in http1)
        {
            // Every keep-alive connection was closed by a response saying so, while the listener still accepted.
            Assert.True(load.LastServedByDrainingAt < closedAt, "an HTTP/1.1 client still used the draining server when its listener closed");
            Assert.True(load.ClosedByServer >= 1, "the draining server never answered Connection: close");
        }

        foreach (var load in grpc)
        {
            // GOAWAY moved the channel to a new connection (routed to the other replica) before the listener closed.
            Assert.True(load.ConnectedToReplicaAt < closedAt, "a gRPC channel stayed on the draining server until its listener closed");
            Assert.Equal(1, load.ConnectionsToDraining);
        }
    }

    /// <summary>Polls the port with fresh connections; the first refusal is when the listener closed.</summary>
    private static async Task<long> WhenListenerClosesAsync(IPEndPoint endpoint)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            using var probe = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(endpoint);
            }
            catch (SocketException)
            {
                return Stopwatch.GetTimestamp();
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("the draining server's listener never closed");
    }

    private static IPEndPoint Loopback(Uri address) => new(IPAddress.Loopback, address.Port);

    /// <summary>The REST and gRPC endpoints a new connection is routed to.</summary>
    private sealed class Endpoints(IPEndPoint rest, IPEndPoint grpc)
    {
        private volatile IPEndPoint[] _current = [rest, grpc];

        public IPEndPoint Rest => _current[0];

        public IPEndPoint Grpc => _current[1];

        public void Set(IPEndPoint newRest, IPEndPoint newGrpc) => _current = [newRest, newGrpc];
    }

    /// <summary>One HTTP/1.1 client: keeps its connection until the server answers Connection: close.</summary>
    private sealed class Http1Load(Endpoints service, int drainingPort, byte[] body, ConcurrentQueue<string> failures)
    {
        public int ServedByDraining;
        public int ServedByReplica;
        public int ConnectionsToDraining;
        public int ClosedByServer;
        public long LastServedByDrainingAt;

        public async Task RunAsync(CancellationToken stop)
        {
            using var client = new RawHttp1Client();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (!client.IsConnected)
                    {
                        await client.ConnectAsync(service.Rest, stop);
                        if (client.ConnectedTo!.Port == drainingPort)
                        {
                            ConnectionsToDraining++;
                        }
                    }

                    var toDraining = client.ConnectedTo!.Port == drainingPort;
                    var response = await client.SendAsync("POST", "/v1/models/mnist:predict", body, stop);
                    if (response.Status != 200)
                    {
                        failures.Enqueue($"HTTP/1.1 {response.Status} from {(toDraining ? "the draining server" : "the replica")}: {response.Body}");
                    }

                    if (toDraining)
                    {
                        ServedByDraining++;
                        LastServedByDrainingAt = Stopwatch.GetTimestamp();
                    }
                    else
                    {
                        ServedByReplica++;
                    }

                    if (response.ConnectionClose)
                    {
                        ClosedByServer += toDraining ? 1 : 0;
                        client.Close();
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is IOException or SocketException)
                {
                    failures.Enqueue($"HTTP/1.1 request to port {client.ConnectedTo?.Port} lost: {ex.Message}");
                    client.Close();
                }
            }
        }
    }

    /// <summary>One gRPC channel whose new connections follow the Service, as kube-proxy routes them.</summary>
    private sealed class GrpcLoad(Endpoints service, int drainingPort, ConcurrentQueue<string> failures)
    {
        public int Calls;
        public int ConnectionsToDraining;
        public long ConnectedToReplicaAt;

        public async Task RunAsync(CancellationToken stop)
        {
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var endpoint = service.Grpc;
                    var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(endpoint, cancellationToken);
                    if (endpoint.Port == drainingPort)
                    {
                        Interlocked.Increment(ref ConnectionsToDraining);
                    }
                    else if (ConnectedToReplicaAt == 0)
                    {
                        ConnectedToReplicaAt = Stopwatch.GetTimestamp();
                    }

                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            using var channel = GrpcChannel.ForAddress("http://inference.test", new GrpcChannelOptions { HttpHandler = handler });
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var reply = await client.ServerLiveAsync(new ServerLiveRequest(), cancellationToken: stop);
                    if (!reply.Live)
                    {
                        failures.Enqueue("gRPC ServerLive answered live=false");
                    }

                    Calls++;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && stop.IsCancellationRequested)
                {
                    return;
                }
                catch (RpcException ex)
                {
                    failures.Enqueue($"gRPC call failed: {ex.Status}");
                }
            }
        }
    }
}
