using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ServingStack.Gateway.Splits;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// Canary analysis judges the canary on evidence a client cannot forge: only requests the split itself routed, and only
/// failures of the server. A hostile client's bad requests, aborted calls and tiny deadlines, sent with overrides or
/// with a sticky key that lands on the canary, do not roll a healthy canary back. (Garbage deep inside a tensor field,
/// which only the model server parses, is answered by the server's own gRPC stack with UNKNOWN: that is the server's
/// answer and counts; see README, Canary analysis.)
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class CanaryAnalysisTrustTests(GatewayServersFixture servers)
{
    private const int Good = 20;
    private const int Hostile = 20;

    [Fact]
    public async Task Bad_requests_with_overrides_or_a_canary_sticky_key_do_not_roll_back_a_healthy_canary()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        var settings = servers.Settings(50, 50, anonymousOverrides: true);
        settings["Gateway:CanaryAnalysis:MinRequests"] = "10";
        settings["Gateway:CanaryAnalysis:ConsecutiveWindows"] = "1";
        // Latency is not judged here: both targets share one server, and a tiny window's p99 is noisy.
        settings["Gateway:CanaryAnalysis:LatencyFactor"] = "1000";
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(time));
        var registry = gateway.Services.GetRequiredService<SplitRegistry>();
        var analyzer = gateway.Services.GetRequiredService<CanaryAnalyzer>();
        var split = registry.Get("mnist")!;
        var canaryKey = GatewayClient.StickyKeyFor(split, "canary");
        var stableKey = GatewayClient.StickyKeyFor(split, "stable");
        using var grpc = new RawGrpcClient(gateway.GrpcAddress);
        var row = GatewayClient.Rows(1, seed: 61)[0];
        var outcomes = new List<string>();
        // A call that beat its tiny deadline is a success of the canary, and the split routed it: evidence like any other.
        var answeredInTime = 0;

        for (var i = 0; i < Hostile; i++)
        {
            // Each way in, once with the override header and once with the canary's sticky key.
            foreach (var routing in new[] { ("X-Canary", "always"), ("X-User", canaryKey) })
            {
                outcomes.Add("rest-400 " + await BadJsonAsync(gateway.Client, routing));
                var deadline = await grpc.CallAsync("/inference.GRPCInferenceService/ModelInfer", ProtoBytes.Frame(InferMessage(row)), routing, ("grpc-timeout", "1n"));
                outcomes.Add($"grpc-deadline {deadline.GrpcStatus}");
                answeredInTime += routing.Item1 == "X-User" && deadline.GrpcStatus == 0 ? 1 : 0;
                var lying = await grpc.CallAsync("/inference.GRPCInferenceService/ModelInfer",
                    ProtoBytes.Frame([.. ProtoBytes.Field(1, "mnist"), .. ProtoBytes.LyingField(2, ulong.MaxValue, [])]), routing);
                outcomes.Add($"grpc-lying {lying.GrpcStatus}");
                outcomes.Add("rest-aborted " + await AbortedUploadAsync(gateway.Address, routing));
            }
        }

        // Healthy traffic that the split routed by weight, on both targets.
        for (var i = 0; i < Good; i++)
        {
            foreach (var key in new[] { canaryKey, stableKey })
            {
                var (status, _, _, text) = await GatewayClient.PredictAsync(gateway.Client, row, ("X-User", key));
                Assert.True(status == 200, text);
            }
        }

        await Eventually.TrueAsync(() => analyzer.Pending("mnist", "canary") >= Good + answeredInTime && analyzer.Pending("mnist", "stable") >= Good,
            "the good requests in the window");
        var counted = analyzer.Pending("mnist", "canary");
        time.Advance(TimeSpan.FromSeconds(10));

        var summary = string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Key}: {g.Count()}"));
        Assert.True(registry.Get("mnist")!.Find("canary")!.Weight == 50, $"the canary was rolled back; hostile outcomes: {summary}");
        Assert.DoesNotContain(gateway.Log.Entries, e => e.EventId.Id is 3001 or 3002);
        // Only the good canary requests were evidence; none of the hostile ones.
        Assert.True(counted == Good + answeredInTime, $"{counted} canary requests counted, not {Good} + {answeredInTime}; hostile outcomes: {summary}");
    }

    /// <summary>ModelInferRequest: model_name 1, inputs 5 (name 1, datatype 2, shape 3), raw_input_contents 7.</summary>
    internal static byte[] InferMessage(float[] row)
    {
        byte[] input = [.. ProtoBytes.Field(1, "x"), .. ProtoBytes.Field(2, "FP32"), .. ProtoBytes.Field(3, [.. ProtoBytes.VarintBytes(1), .. ProtoBytes.VarintBytes((ulong)row.Length)])];
        var raw = new byte[row.Length * 4];
        Buffer.BlockCopy(row, 0, raw, 0, raw.Length);
        return [.. ProtoBytes.Field(1, "mnist"), .. ProtoBytes.Field(5, input), .. ProtoBytes.Field(7, raw)];
    }

    private static async Task<int> BadJsonAsync(HttpClient client, (string Name, string Value) routing)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/mnist:predict")
        {
            Content = new StringContent("{\"instances\": [[1, 2", Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add(routing.Name, routing.Value);
        using var response = await client.SendAsync(request);
        return (int)response.StatusCode;
    }

    /// <summary>Announces a body of 100,000 bytes, sends 10 and closes the connection: the upload breaks on the client's side.</summary>
    internal static async Task<string> AbortedUploadAsync(Uri gateway, (string Name, string Value) routing)
    {
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(gateway.Host, gateway.Port);
        var stream = socket.GetStream();
        var head = $"POST /v1/models/mnist:predict HTTP/1.1\r\nHost: {gateway.Host}\r\nContent-Type: application/json\r\n{routing.Name}: {routing.Value}\r\nContent-Length: 100000\r\n\r\n{{\"instances";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        await stream.FlushAsync();
        socket.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        // Whatever the gateway answers (if anything) before the connection ends.
        var buffer = new byte[4096];
        var read = 0;
        try
        {
            read = await stream.ReadAsync(buffer);
        }
        catch (IOException)
        {
        }

        var text = Encoding.ASCII.GetString(buffer, 0, read);
        return text.Length >= 12 ? text[..12] : "closed";
    }
}
