using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using ServingStack.Gateway.Splits;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;
using ServingStack.Tests.Inference.TfServing.Grpc;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// TF Serving gRPC through the gateway with the client generated from TF Serving's protos: the split routes Predict and
/// GetModelStatus by <c>model_spec.name</c>, each call's answer comes from its target's version, and the weights hold.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class TfServingGrpcSplitTests(GatewayServersFixture servers)
{
    [Theory]
    [InlineData("stable", 1)]
    [InlineData("canary", 2)]
    public async Task Predict_with_a_sticky_key_is_answered_by_that_targets_version(string target, long version)
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(50, 50));
        var split = gateway.Services.GetRequiredService<SplitRegistry>().Get(GatewayServersFixture.Model)!;
        var key = GatewayClient.StickyKeyFor(split, target);
        var client = new PredictionService.PredictionServiceClient(gateway.GrpcChannel);
        var rows = GatewayClient.Rows(3, seed: 31);

        using var call = client.PredictAsync(Predict(rows), new Metadata { { "x-user", key } });
        var headers = await call.ResponseHeadersAsync;
        var response = await call.ResponseAsync;

        Assert.Equal(target, headers.GetValue("x-served-by"));
        Assert.Equal(GatewayServersFixture.Model, response.ModelSpec.Name);
        Assert.Equal(version, response.ModelSpec.Version);
        var output = Assert.Single(response.Outputs).Value;
        Assert.Equal([rows.Length, MlpWeights.OutputSize], TfTensors.Dims(output));
        var weights = servers.WeightsOf(target);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), output.FloatVal.Skip(r * MlpWeights.OutputSize).Take(MlpWeights.OutputSize).ToArray());
        }
    }

    [Fact]
    public async Task Predict_calls_follow_the_weights_and_every_answer_is_the_serving_versions()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(70, 30));
        var client = new PredictionService.PredictionServiceClient(gateway.GrpcChannel);
        var rows = GatewayClient.Rows(8, seed: 32);
        var served = new Dictionary<string, int>();
        const int total = 600;
        for (var i = 0; i < total; i++)
        {
            var row = rows[i % rows.Length];
            using var call = client.PredictAsync(Predict([row]));
            var by = (await call.ResponseHeadersAsync).GetValue("x-served-by");
            var response = await call.ResponseAsync;
            Assert.NotNull(by);
            Assert.Equal(by == "stable" ? 1 : 2, response.ModelSpec.Version);
            TfServingPredictTests.AssertClose(servers.WeightsOf(by).Evaluate(row), [.. Assert.Single(response.Outputs).Value.FloatVal]);
            served[by] = served.GetValueOrDefault(by) + 1;
        }

        // 30 % of 600 is 180; a binomial draw stays within ±4.5 standard deviations (±50) all but never.
        Assert.InRange(served.GetValueOrDefault("canary"), 130, 230);
        Assert.Equal(total, served.Values.Sum());
    }

    [Fact]
    public async Task Get_model_status_is_split_and_a_version_pin_keeps_the_routes_cluster()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(0, 100));
        var client = new ModelService.ModelServiceClient(gateway.GrpcChannel);

        using var split = client.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = GatewayServersFixture.Model } });
        Assert.Equal("canary", (await split.ResponseHeadersAsync).GetValue("x-served-by"));
        // The canary's server (Both) serves versions 1 and 2; the route's own cluster (V1Only) only version 1.
        var versions = (await split.ResponseAsync).ModelVersionStatus.Select(s => s.Version).Order().ToArray();
        Assert.Equal([1L, 2L], versions);

        using var pinned = client.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = GatewayServersFixture.Model, Version = 1 } });
        Assert.Null((await pinned.ResponseHeadersAsync).GetValue("x-served-by"));
        var status = Assert.Single((await pinned.ResponseAsync).ModelVersionStatus);
        Assert.Equal(1, status.Version);
        Assert.Equal(ModelVersionStatus.Types.State.Available, status.State);
    }

    private static PredictRequest Predict(float[][] rows)
    {
        var flat = rows.SelectMany(r => r).ToArray();
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = GatewayServersFixture.Model } };
        request.Inputs.Add(ModelFactory.MlpInputName, TfTensors.Content(DataType.DtFloat, flat, rows.Length, MlpWeights.InputSize));
        return request;
    }
}
