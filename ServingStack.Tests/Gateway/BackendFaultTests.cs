using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using ServingStack.Gateway.Routing;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using Xunit.Abstractions;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// Real inference server processes behind a real gateway on loopback: one of two stable backends is SIGKILLed under
/// steady REST and gRPC load (closed-loop clients). Calls that never reached a backend, and inference calls cut off
/// before any answer, are re-sent to the survivor; the dead one is ejected after a few consecutive transport failures.
/// </summary>
public sealed class BackendFaultTests(ITestOutputHelper output)
{
    private const int Seed = 5;
    private const int ClientsPerProtocol = 4;
    private const int BeforeKill = 100;
    private const int AfterKill = 600;

    [Fact]
    public async Task Sigkill_of_one_of_two_backends_under_rest_and_grpc_load_fails_at_most_one_call_in_a_thousand()
    {
        using var repository = new TempModelRepository();
        repository.AddMlp("mnist", 1, Seed);
        var config = repository.WriteConfig("models.config", "model_config_list { config { name: 'mnist' base_path: 'mnist' } }");
        var startA = ServerProcess.StartAsync($"--model_config_file={config}");
        var startB = ServerProcess.StartAsync($"--model_config_file={config}");
        await using var a = await startA;
        await using var b = await startB;
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:v1:ClusterId"] = "stable",
            ["ReverseProxy:Routes:v1:Match:Path"] = "/v1/{**rest}",
            ["ReverseProxy:Routes:grpc:ClusterId"] = "grpc-stable",
            ["ReverseProxy:Routes:grpc:Match:Path"] = "/inference.GRPCInferenceService/{**rest}",
            ["ReverseProxy:Clusters:stable:Destinations:a:Address"] = a.RestAddress.ToString(),
            ["ReverseProxy:Clusters:stable:Destinations:b:Address"] = b.RestAddress.ToString(),
            ["ReverseProxy:Clusters:grpc-stable:Destinations:a:Address"] = a.GrpcAddress.ToString(),
            ["ReverseProxy:Clusters:grpc-stable:Destinations:b:Address"] = b.GrpcAddress.ToString(),
            ["ReverseProxy:Clusters:grpc-stable:HttpRequest:Version"] = "2",
            ["ReverseProxy:Clusters:grpc-stable:HttpRequest:VersionPolicy"] = "RequestVersionExact",
            // As in production, every request goes through the split (here one target).
            ["Gateway:Splits:mnist:Targets:0:Name"] = "stable",
            ["Gateway:Splits:mnist:Targets:0:Cluster"] = "stable",
            ["Gateway:Splits:mnist:Targets:0:GrpcCluster"] = "grpc-stable",
            ["Gateway:Splits:mnist:Targets:0:Weight"] = "100",
            // No active probe during the test: the dead backend must be ejected by what the requests see.
            ["Gateway:Resilience:ActiveInterval"] = "00:05:00",
        });

        var weights = MlpWeights.Create(Seed);
        var rows = GatewayClient.Rows(16, seed: 31);
        var results = new ConcurrentQueue<Result>();
        var killed = 0;
        using var stop = new CancellationTokenSource();
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);
        var clients = Enumerable.Range(0, ClientsPerProtocol).SelectMany(c => new[]
        {
            Task.Run(() => LoopAsync(c, "rest", row => RestAsync(gateway.Client, row))),
            Task.Run(() => LoopAsync(c, "grpc", row => GrpcAsync(grpc, row))),
        }).ToArray();

        await WaitAsync(() => Served("rest", "a") >= BeforeKill && Served("rest", "b") >= BeforeKill
            && Served("grpc", "a") >= BeforeKill && Served("grpc", "b") >= BeforeKill, "both backends to serve both protocols");
        using (var kill = Process.Start("kill", ["-KILL", b.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        await b.WaitForExitAsync(CancellationToken.None);
        Volatile.Write(ref killed, 1);
        await WaitAsync(() => results.Count(r => r.AfterKill && r.Protocol == "rest") >= AfterKill
            && results.Count(r => r.AfterKill && r.Protocol == "grpc") >= AfterKill, $"{AfterKill} calls of each protocol after the kill");
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        foreach (var protocol in new[] { "rest", "grpc" })
        {
            var all = results.Where(r => r.Protocol == protocol).ToArray();
            var failed = all.Where(r => r.Status != "OK").ToArray();
            var byStatus = string.Join(", ", failed.GroupBy(r => r.Status).Select(g => $"{g.Key}: {g.Count()} (e.g. {g.First().Text})"));
            output.WriteLine($"{protocol}: {all.Length} calls ({all.Count(r => r.AfterKill)} after the kill), {failed.Length} failed{(failed.Length > 0 ? ": " + byStatus : "")}");
            Assert.True(failed.Length * 1000 <= all.Length, $"{protocol}: {failed.Length} of {all.Length} calls failed: {byStatus}");
            Assert.All(all.Where(r => r.Status == "OK"), r => Assert.True(r.Correct, $"{protocol}: wrong prediction from {r.Destination}"));
            Assert.All(all.Where(r => r.AfterKill && r.Status == "OK"), r => Assert.Equal("a", r.Destination));
        }

        // The dead backend was ejected from both clusters by consecutive transport failures, so few calls were re-sent.
        var state = (IProxyStateLookup)gateway.Services.GetService(typeof(IProxyStateLookup))!;
        foreach (var cluster in new[] { "stable", "grpc-stable" })
        {
            Assert.True(state.TryGetCluster(cluster, out var model));
            Assert.Equal(DestinationHealth.Unhealthy, model.Destinations.Values.Single(d => Name(d.DestinationId) == "b").Health.Passive);
            Assert.DoesNotContain(model.DestinationsState.AvailableDestinations, d => Name(d.DestinationId) == "b");
        }

        var retries = gateway.Log.Entries.Count(e => e.EventId.Id == 1101);
        output.WriteLine($"{retries} calls re-sent to the survivor");
        Assert.InRange(retries, 1, 40);

        int Served(string protocol, string destination) => results.Count(r => r.Protocol == protocol && r.Destination == destination);

        async Task LoopAsync(int client, string protocol, Func<float[], Task<(string Status, string? Destination, float[]? Prediction, string Text)>> call)
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var afterKill = Volatile.Read(ref killed) == 1;
                var row = rows[(client + i) % rows.Length];
                var (status, destination, prediction, text) = await call(row);
                var correct = prediction is not null && weights.Evaluate(row).Zip(prediction).All(p => Math.Abs(p.First - p.Second) <= 1e-5);
                results.Enqueue(new Result(protocol, afterKill, status, destination, correct, text));
            }
        }

        async Task WaitAsync(Func<bool> condition, string what)
        {
            try
            {
                await Eventually.TrueAsync(condition, what, TimeSpan.FromSeconds(90));
            }
            catch (TimeoutException e)
            {
                var summary = results.GroupBy(r => (r.Protocol, r.AfterKill, r.Status, r.Destination)).Select(g => $"{g.Key}: {g.Count()}");
                throw new TimeoutException($"{e.Message}; results: {string.Join(" | ", summary)}", e);
            }
        }
    }

    private static async Task<(string Status, string? Destination, float[]? Prediction, string Text)> RestAsync(HttpClient client, float[] row)
    {
        var body = new JsonObject { ["instances"] = Json.Matrix([row]) }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/mnist:predict")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var destination = response.Headers.TryGetValues(ConnectRetryMiddleware.DestinationHeader, out var values) ? Name(values.Single()) : null;
        return response.IsSuccessStatusCode
            ? ("OK", destination, Json.Floats(JsonNode.Parse(text)!["predictions"]![0]), "")
            : (((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), destination, null, text[..Math.Min(200, text.Length)]);
    }

    private static async Task<(string Status, string? Destination, float[]? Prediction, string Text)> GrpcAsync(GRPCInferenceService.GRPCInferenceServiceClient client, float[] row)
    {
        using var call = client.ModelInferAsync(SecurityTests.InferRequest(row));
        try
        {
            var response = await call.ResponseAsync;
            var headers = await call.ResponseHeadersAsync;
            var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray();
            var destination = headers.GetValue(ConnectRetryMiddleware.DestinationHeader.ToLowerInvariant());
            return ("OK", destination is null ? null : Name(destination), values, "");
        }
        catch (RpcException e)
        {
            return (e.StatusCode.ToString(), null, null, e.Status.Detail);
        }
    }

    /// <summary>Service discovery names resolved destinations "{configured name}[{address}]".</summary>
    private static string Name(string destinationId) => destinationId.Split('[')[0];

    private sealed record Result(string Protocol, bool AfterKill, string Status, string? Destination, bool Correct, string Text);
}
