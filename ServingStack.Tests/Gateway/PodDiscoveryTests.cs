using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ServingStack.Gateway.Routing;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// The gateway behind a headless Service: one destination per address the service's name resolves to, re-resolved as
/// pods come and go, health-checked per pod, and HTTP/2 connections that are replaced after their lifetime.
/// </summary>
public sealed class PodDiscoveryTests
{
    private const string ServiceHost = "inference-pods.test";
    private const int Window = 40;

    private static readonly IPAddress[] Pods = [IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3"), IPAddress.Parse("127.0.0.4")];

    [Fact]
    public async Task Pods_added_and_removed_behind_one_name_gain_and_lose_rest_and_grpc_traffic_and_unready_pods_are_skipped()
    {
        var (restPort, grpcPort) = PodBackend.FreePorts(Pods);
        var backends = new List<PodBackend>();
        try
        {
            foreach (var pod in Pods)
            {
                backends.Add(await PodBackend.StartAsync(pod, restPort, grpcPort));
            }

            // The name resolves as a headless Service's does: to the ready pods. DNS here cannot be changed at run time,
            // so the one fake is the lookup table; the backends, sockets and the gateway are real.
            var dns = new TableLookup();
            dns.Set(ServiceHost, Pods[0], Pods[1]);
            await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
            {
                // What the AppHost publishes: clusters through service discovery, a split, and no routes at all.
                ["ReverseProxy:Clusters:inference:Destinations:inference:Address"] = "http://_rest.inference",
                ["ReverseProxy:Clusters:inference-grpc:Destinations:inference:Address"] = "http://_grpc.inference",
                ["ReverseProxy:Clusters:inference-grpc:HttpRequest:Version"] = "2",
                ["ReverseProxy:Clusters:inference-grpc:HttpRequest:VersionPolicy"] = "RequestVersionExact",
                ["services:inference:rest:0"] = $"http://{ServiceHost}:{restPort}",
                ["services:inference:grpc:0"] = $"http://{ServiceHost}:{grpcPort}",
                ["Gateway:Splits:mnist:Targets:0:Name"] = "stable",
                ["Gateway:Splits:mnist:Targets:0:Cluster"] = "inference",
                ["Gateway:Splits:mnist:Targets:0:GrpcCluster"] = "inference-grpc",
                ["Gateway:Splits:mnist:Targets:0:Weight"] = "100",
                ["Gateway:Discovery:RefreshPeriod"] = "00:00:00.200",
                ["Gateway:Resilience:ActiveInterval"] = "00:00:00.300",
                ["Gateway:Resilience:ActiveTimeout"] = "00:00:01",
            }, services => services.Replace(ServiceDescriptor.Singleton<IHostAddressLookup>(dns)));
            var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);

            // Both resolved pods serve REST and gRPC (one gRPC channel to the gateway: its requests still spread).
            await SeenAsync(gateway, grpc, [Pods[0], Pods[1]], "the two resolved pods to serve");
            var first = await SampleAsync(gateway, grpc);
            Assert.DoesNotContain(Pods[2], first);

            // A scale-out: the new pod receives REST and gRPC traffic after the next resolution.
            dns.Set(ServiceHost, Pods);
            await SeenAsync(gateway, grpc, [Pods[2]], "the added pod to serve");

            // A scale-in: the removed pod (still running, so only the resolver can drop it) gets nothing more.
            dns.Set(ServiceHost, Pods[1], Pods[2]);
            await Eventually.TrueAsync(async () => !(await SampleAsync(gateway, grpc)).Contains(Pods[0]), "the removed pod to get no more traffic");
            Assert.Equal([Pods[1], Pods[2]], (await SampleAsync(gateway, grpc)).Order(Comparer<IPAddress>.Create((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()))));

            // Active health checks per pod: an unready pod is skipped while its sibling behind the same name serves.
            backends[1].Ready = false;
            await Eventually.TrueAsync(async () => (await SampleAsync(gateway, grpc)).SetEquals([Pods[2]]), "the unready pod to be skipped");
            backends[1].Ready = true;
            await SeenAsync(gateway, grpc, [Pods[1]], "the pod to serve again once ready");
        }
        finally
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_grpc_connection_to_one_address_is_replaced_after_its_lifetime()
    {
        var (restPort, grpcPort) = PodBackend.FreePorts([IPAddress.Loopback]);
        await using var backend = await PodBackend.StartAsync(IPAddress.Loopback, restPort, grpcPort);
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            // One address, as a ClusterIP Service or a load balancer is: only a new connection can reach another pod.
            ["ReverseProxy:Clusters:inference-grpc:Destinations:a:Address"] = $"http://127.0.0.1:{grpcPort}",
            ["ReverseProxy:Clusters:inference-grpc:HttpRequest:Version"] = "2",
            ["ReverseProxy:Clusters:inference-grpc:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            ["Gateway:DefaultCluster"] = "inference-grpc",
            ["Gateway:DefaultGrpcCluster"] = "inference-grpc",
            ["Gateway:Discovery:ConnectionLifetime"] = "00:00:00.300",
            ["Gateway:Resilience:HealthCheckDefaults"] = "false",
        });
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);

        var firstConnection = (await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "mnist" })).ModelName;
        Assert.Equal(firstConnection, (await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "mnist" })).ModelName);
        // Calls keep coming (the connection never idles), yet the gateway opens a new one once the lifetime is over.
        await Eventually.TrueAsync(async () => (await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "mnist" })).ModelName != firstConnection,
            "the gateway to open a new upstream connection", TimeSpan.FromSeconds(20));
    }

    /// <summary>The pods that served <see cref="Window"/> REST and <see cref="Window"/> gRPC requests.</summary>
    private static async Task<HashSet<IPAddress>> SampleAsync(GatewayHost gateway, GRPCInferenceService.GRPCInferenceServiceClient grpc)
    {
        var seen = new ConcurrentBag<IPAddress>();
        for (var i = 0; i < Window; i++)
        {
            using var response = await gateway.Client.PostAsync("/v1/models/mnist:predict", new StringContent("{}"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"REST through the gateway: {(int)response.StatusCode} {body}");
            seen.Add(IPAddress.Parse(body.Split(' ')[0]));
            var reply = await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "mnist" });
            seen.Add(IPAddress.Parse(reply.Id));
        }

        return [.. seen];
    }

    private static Task SeenAsync(GatewayHost gateway, GRPCInferenceService.GRPCInferenceServiceClient grpc, IPAddress[] pods, string what)
    {
        var rest = new HashSet<IPAddress>();
        var viaGrpc = new HashSet<IPAddress>();
        return Eventually.TrueAsync(async () =>
        {
            using var response = await gateway.Client.PostAsync("/v1/models/mnist:predict", new StringContent("{}"));
            if (response.IsSuccessStatusCode)
            {
                rest.Add(IPAddress.Parse((await response.Content.ReadAsStringAsync()).Split(' ')[0]));
            }

            viaGrpc.Add(IPAddress.Parse((await grpc.ModelInferAsync(new ModelInferRequest { ModelName = "mnist" })).Id));
            return pods.All(rest.Contains) && pods.All(viaGrpc.Contains);
        }, what);
    }

    /// <summary>Name → addresses, changed by the test as a cluster's DNS changes when pods come and go.</summary>
    private sealed class TableLookup : IHostAddressLookup
    {
        private readonly ConcurrentDictionary<string, IPAddress[]> _table = new(StringComparer.OrdinalIgnoreCase);

        public void Set(string host, params IPAddress[] addresses) => _table[host] = addresses;

        public Task<IPAddress[]> GetAddressesAsync(string host, CancellationToken cancellationToken) =>
            _table.TryGetValue(host, out var addresses)
                ? Task.FromResult(addresses)
                : Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound));
    }
}
