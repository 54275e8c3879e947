using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;
using InputTensor = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferRequest.Types.InferInputTensor;

namespace ServingStack.Tests.Gateway;

/// <summary>The weighted split, stickiness, overrides and version pinning over REST v1, v2 and gRPC, against real servers.</summary>
[Collection(GatewayCollection.Name)]
public sealed class WeightedSplitTests(GatewayServersFixture servers)
{
    [Fact]
    public async Task Ten_thousand_requests_at_90_10_put_10_percent_on_the_canary_and_every_answer_is_the_serving_versions()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(90, 10));
        var rows = GatewayClient.Rows(16, seed: 7);
        var served = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        const int total = 10_000;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                var row = rows[i % rows.Length];
                var (status, by, prediction, text) = await GatewayClient.PredictAsync(gateway.Client, row);
                if (status != 200 || by is null)
                {
                    failures.Enqueue($"{status} {by}: {text}");
                    continue;
                }

                served.AddOrUpdate(by, 1, (_, n) => n + 1);
                var expected = servers.WeightsOf(by).Evaluate(row);
                if (expected.Zip(prediction!).Any(p => Math.Abs(p.First - p.Second) > 1e-5))
                {
                    failures.Enqueue($"{by} answered with another version's prediction");
                }
            }
        }));

        Assert.Empty(failures);
        Assert.Equal(total, served.Values.Sum());
        var canaryShare = served.GetValueOrDefault("canary") / (double)total;
        Assert.InRange(canaryShare, 0.085, 0.115);
    }

    [Fact]
    public async Task A_sticky_key_maps_to_one_target_every_time_and_keys_spread_over_both()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(50, 50));
        var row = GatewayClient.Rows(1, seed: 3)[0];
        var byKey = new Dictionary<string, HashSet<string>>();
        for (var k = 0; k < 40; k++)
        {
            var key = $"user-{k}";
            byKey[key] = [];
            for (var r = 0; r < 4; r++)
            {
                var (status, by, _, text) = await GatewayClient.PredictAsync(gateway.Client, row, ("X-User", key));
                Assert.True(status == 200, text);
                byKey[key].Add(by!);
            }
        }

        Assert.All(byKey, pair => Assert.Single(pair.Value));
        Assert.Contains(byKey.Values, s => s.Contains("stable"));
        Assert.Contains(byKey.Values, s => s.Contains("canary"));
    }

    [Fact]
    public async Task Override_headers_beat_the_weights_and_the_sticky_key()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(100, 0, anonymousOverrides: true));
        var row = GatewayClient.Rows(1, seed: 4)[0];
        for (var i = 0; i < 10; i++)
        {
            var always = await GatewayClient.PredictAsync(gateway.Client, row, ("X-Canary", "always"), ("X-User", $"u{i}"));
            Assert.Equal(200, always.Status);
            Assert.Equal("canary", always.ServedBy);
            TfServingPredictTests.AssertClose(servers.CanaryWeights.Evaluate(row), always.Prediction!);

            var named = await GatewayClient.PredictAsync(gateway.Client, row, ("X-Target", "canary"));
            Assert.Equal("canary", named.ServedBy);
            Assert.Equal("stable", (await GatewayClient.PredictAsync(gateway.Client, row)).ServedBy);
        }

        await using var weighted = await GatewayHost.StartAsync(servers.Settings(0, 100, anonymousOverrides: true));
        Assert.Equal("stable", (await GatewayClient.PredictAsync(weighted.Client, row, ("X-Canary", "never"))).ServedBy);
        Assert.Equal("stable", (await GatewayClient.PredictAsync(weighted.Client, row, ("X-Target", "stable"))).ServedBy);
    }

    [Fact]
    public async Task Overrides_can_be_disabled()
    {
        var settings = servers.Settings(100, 0, anonymousOverrides: true);
        settings["Gateway:OverridesEnabled"] = "false";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 5)[0];
        Assert.Equal("stable", (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Canary", "always"))).ServedBy);
        Assert.Equal("stable", (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Target", "canary"))).ServedBy);
    }

    [Theory]
    [InlineData("stable", "1")]
    [InlineData("canary", "2")]
    public async Task Open_inference_v2_infer_is_pinned_to_the_targets_version(string target, string version)
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(anonymousOverrides: true));
        var row = GatewayClient.Rows(1, seed: 6)[0];
        var body = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = "x",
                ["shape"] = new JsonArray(1, MlpWeights.InputSize),
                ["datatype"] = "FP32",
                ["data"] = new JsonArray([.. row.Select(v => (JsonNode)v)]),
            }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/mnist/infer")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        request.Headers.Add("X-Target", target);
        using var response = await gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        Assert.Equal(target, response.Headers.GetValues("X-Served-By").Single());
        var json = JsonNode.Parse(text)!;
        Assert.Equal(version, json["model_version"]!.GetValue<string>());
        TfServingPredictTests.AssertClose(servers.WeightsOf(target).Evaluate(row), Json.Floats(json["outputs"]![0]!["data"]));
    }

    [Fact]
    public async Task A_request_that_names_a_version_is_not_split()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(0, 100));
        var (status, body, text) = await Json.GetAsync(gateway.Client, "/v1/models/mnist/versions/1");
        Assert.True(status == 200, text);
        Assert.Equal("1", body!["model_version_status"]![0]!["version"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("stable")]
    [InlineData("canary")]
    public async Task Grpc_model_infer_through_the_gateway_goes_to_the_targets_grpc_cluster(string target)
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(anonymousOverrides: true));
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);
        var row = GatewayClient.Rows(1, seed: 8)[0];
        var request = new ModelInferRequest { ModelName = "mnist" };
        var input = new InputTensor { Name = "x", Datatype = "FP32" };
        input.Shape.Add([1, MlpWeights.InputSize]);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan())));

        using var call = client.ModelInferAsync(request, new Metadata { { "x-target", target } });
        var headers = await call.ResponseHeadersAsync;
        var response = await call.ResponseAsync;

        Assert.Equal(target, headers.GetValue("x-served-by"));
        Assert.Equal(target == "stable" ? "1" : "2", response.ModelVersion);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray();
        TfServingPredictTests.AssertClose(servers.WeightsOf(target).Evaluate(row), values);
    }

    [Fact]
    public async Task Prometheus_metrics_count_requests_per_model_and_target()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(anonymousOverrides: true));
        var row = GatewayClient.Rows(1, seed: 9)[0];
        await GatewayClient.PredictAsync(gateway.Client, row, ("X-Target", "canary"));
        await Eventually.TrueAsync(async () =>
        {
            var text = await gateway.Client.GetStringAsync("/metrics");
            return text.Split('\n').Any(l => l.StartsWith("gateway_requests_total{", StringComparison.Ordinal)
                && l.Contains("model=\"mnist\"", StringComparison.Ordinal) && l.Contains("target=\"canary\"", StringComparison.Ordinal));
        }, "the canary's request in /metrics");
    }
}
