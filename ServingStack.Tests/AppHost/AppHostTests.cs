using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.AppHost;

/// <summary>The README's first command: the AppHost graph starts the server with the demo model, healthy.</summary>
public sealed class AppHostTests
{
    [Fact]
    public async Task AppHost_starts_a_healthy_inference_server_that_serves_the_demo_model()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.ServingStack_AppHost>(cts.Token);
        await using var app = await builder.BuildAsync(cts.Token);
        await app.StartAsync(cts.Token);

        await app.ResourceNotifications.WaitForResourceHealthyAsync("inference", cts.Token);

        using var client = app.CreateHttpClient("inference", "rest");
        var row = TestData.MnistRows(1)[0];
        var (status, body, text) = await Json.PostAsync(client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix([row]) });
        Assert.True(status == 200, text);
        TfServingPredictTests.AssertClose(MlpWeights.Create(DemoRepositoryTests.CanarySeed).Evaluate(row), Json.Floats(body!["predictions"]![0]));

        // gRPC on its own endpoint (h2c).
        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress(app.GetEndpoint("inference", "grpc"));
        var grpc = new ServingStack.Inference.Protocols.OpenInference.Grpc.GRPCInferenceService.GRPCInferenceServiceClient(channel);
        Assert.True((await grpc.ServerReadyAsync(new(), cancellationToken: cts.Token)).Ready);

        (status, body, text) = await Json.GetAsync(client, "/v1/models/mnist");
        Assert.True(status == 200, text);
        Assert.Equal(["2", "1"], body!["model_version_status"]!.AsArray().Select(s => s!["version"]!.GetValue<string>()));
    }
}
