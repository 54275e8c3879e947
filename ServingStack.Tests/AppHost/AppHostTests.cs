using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Gateway;
using ServingStack.Tests.Inference;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.AppHost;

/// <summary>The README's first command: the whole graph (sync, stable ×2, canary, gateway) starts healthy and predicts.</summary>
public sealed class AppHostTests
{
    [Fact]
    public async Task AppHost_starts_the_whole_graph_and_predicts_through_the_gateway()
    {
        // A store left by an earlier run with other bytes under a version the sync never rewrites: the graph starts
        // from a fresh copy, or the sync would stay unhealthy and nothing would start.
        var stale = Path.Combine(BuiltProject.RepositoryRoot(), ".servingstack", "model-store", "mnist", "1");
        Directory.CreateDirectory(stale);
        await File.WriteAllTextAsync(Path.Combine(stale, "model.onnx"), "not the repository's model");

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        // Random ports: a developer's own `dotnet run` of the AppHost may hold 8080/8501 while the tests run.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ServingStack_AppHost>(["DcpPublisher:RandomizePorts=true"], cts.Token);
        await using var app = await builder.BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);

        foreach (var resource in new[] { "modelsync", "inference", "inference-canary", "gateway" })
        {
            await app.ResourceNotifications.WaitForResourceHealthyAsync(resource, cts.Token);
        }

        var row = TestData.MnistRows(1)[0];
        var stable = MlpWeights.Create(DemoRepositoryTests.StableSeed).Evaluate(row);
        var canary = MlpWeights.Create(DemoRepositoryTests.CanarySeed).Evaluate(row);

        // TF Serving REST through the gateway: the override header picks the target, which is pinned to its label.
        using var gateway = app.CreateHttpClient("gateway", "rest");
        foreach (var (header, target, expected) in new[] { ("never", "stable", stable), ("always", "canary", canary) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/mnist:predict")
            {
                Content = new StringContent(new JsonObject { ["instances"] = Json.Matrix([row]) }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Canary", header);
            using var response = await gateway.SendAsync(request, cts.Token);
            var text = await response.Content.ReadAsStringAsync(cts.Token);
            Assert.True(response.IsSuccessStatusCode, $"{header}: {(int)response.StatusCode} {text}");
            Assert.Equal(target, Assert.Single(response.Headers.GetValues("X-Served-By")));
            TfServingPredictTests.AssertClose(expected, Json.Floats(JsonNode.Parse(text)!["predictions"]![0]));
        }

        // Open Inference gRPC through the gateway's h2c port: routed by cluster, each serving its own version.
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(app.GetEndpoint("gateway", "grpc"));
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        foreach (var (header, version, expected) in new[] { ("never", "1", stable), ("always", "2", canary) })
        {
            var reply = await grpc.ModelInferAsync(SecurityTests.InferRequest(row), new Metadata { { "x-canary", header } }, cancellationToken: cts.Token);
            Assert.Equal(version, reply.ModelVersion);
            TfServingPredictTests.AssertClose(expected, Floats(reply));
        }

        // Each service serves exactly the version the graph gave it.
        foreach (var (service, version) in new[] { ("inference", "1"), ("inference-canary", "2") })
        {
            using var direct = app.CreateHttpClient(service, "rest");
            var (status, body, text) = await Json.GetAsync(direct, "/v1/models/mnist");
            Assert.True(status == 200, text);
            Assert.Equal([version], body!["model_version_status"]!.AsArray().Select(s => s!["version"]!.GetValue<string>()));
        }
    }

    private static float[] Floats(ModelInferResponse reply)
    {
        var bytes = reply.RawOutputContents[0].Span;
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }
}
