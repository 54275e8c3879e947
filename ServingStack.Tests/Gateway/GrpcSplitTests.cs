using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ServingStack.Gateway.Splits;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// The split of gRPC calls by the model named in their first message, for Open Inference and TF Serving (messages
/// encoded by hand from the published field numbers), and the answer to a first message that lies about its lengths.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class GrpcSplitTests(GatewayServersFixture servers)
{
    private const string Predict = "/tensorflow.serving.PredictionService/Predict";
    private const string ModelInfer = "/inference.GRPCInferenceService/ModelInfer";

    public static TheoryData<string, byte[]> LyingMessages() => new()
    {
        // Open Inference: model_name (1) declares 2^63 and 2^64-1 bytes.
        { ModelInfer, ProtoBytes.LyingField(1, 1UL << 63, "mnist"u8.ToArray()) },
        { ModelInfer, ProtoBytes.LyingField(1, ulong.MaxValue, "mnist"u8.ToArray()) },
        // ... more bytes than the message holds, and a varint of 11 bytes.
        { ModelInfer, ProtoBytes.LyingField(1, 1000, "mnist"u8.ToArray()) },
        { ModelInfer, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] },
        // TF Serving: model_spec (1) itself, and name (1) inside it, lie.
        { Predict, ProtoBytes.LyingField(1, 1UL << 63, ProtoBytes.ModelSpec("mnist")) },
        { Predict, ProtoBytes.LyingField(1, ulong.MaxValue, ProtoBytes.ModelSpec("mnist")) },
        { Predict, ProtoBytes.Field(1, ProtoBytes.LyingField(1, ulong.MaxValue, "mnist"u8.ToArray())) },
        { Predict, ProtoBytes.Field(1, ProtoBytes.LyingField(1, 1UL << 63, "mnist"u8.ToArray())) },
        // A name that runs past the end of its ModelSpec, though not past the message.
        { Predict, [.. ProtoBytes.Field(1, ProtoBytes.LyingField(1, 9, "mnist"u8.ToArray())), .. ProtoBytes.Field(3, "padding")] },
        { "/tensorflow.serving.PredictionService/MultiInference", ProtoBytes.Field(1, ProtoBytes.LyingField(1, 1UL << 63, ProtoBytes.ModelSpec("mnist"))) },
    };

    [Theory]
    [MemberData(nameof(LyingMessages))]
    public async Task A_first_message_whose_lengths_lie_gets_invalid_argument(string path, byte[] message)
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings());
        using var client = new RawGrpcClient(gateway.GrpcAddress);
        var response = await client.CallAsync(path, ProtoBytes.Frame(message));
        Assert.Equal((int)HttpStatusCode.OK, response.HttpStatus);
        Assert.True(response.GrpcStatus == 3, $"grpc-status {response.GrpcStatus}: {response.GrpcMessage}");
        Assert.Contains("malformed", response.GrpcMessage, StringComparison.Ordinal);
        Assert.Empty(response.Payload);
        Assert.DoesNotContain(gateway.Log.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error);
    }

    [Fact]
    public async Task Tf_serving_grpc_is_split_by_model_spec_name_for_every_method()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(50, 50));
        var split = gateway.Services.GetRequiredService<SplitRegistry>().Get("mnist")!;
        using var client = new RawGrpcClient(gateway.GrpcAddress);
        var row = GatewayClient.Rows(1, seed: 91)[0];
        var spec = ProtoBytes.ModelSpec("mnist", signature: "serving_default");
        var calls = new (string Path, byte[] Message)[]
        {
            (Predict, ProtoBytes.PredictRequest(spec, row)),
            ("/tensorflow.serving.PredictionService/Classify", [.. ProtoBytes.Field(1, spec), .. ProtoBytes.Field(2, [])]),
            ("/tensorflow.serving.PredictionService/Regress", [.. ProtoBytes.Field(1, spec), .. ProtoBytes.Field(2, [])]),
            ("/tensorflow.serving.PredictionService/GetModelMetadata", [.. ProtoBytes.Field(1, spec), .. ProtoBytes.Field(2, "signature_def")]),
            ("/tensorflow.serving.ModelService/GetModelStatus", ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist"))),
            ("/tensorflow.serving.PredictionService/MultiInference", [.. InferenceTask(ProtoBytes.ModelSpec("mnist")), .. InferenceTask(ProtoBytes.ModelSpec("mnist", signature: "other")), .. ProtoBytes.Field(2, [])]),
        };

        foreach (var target in new[] { "stable", "canary" })
        {
            var key = GatewayClient.StickyKeyFor(split, target);
            foreach (var (path, message) in calls)
            {
                var response = await client.CallAsync(path, ProtoBytes.Frame(message), ("X-User", key));
                Assert.True(response.ServedBy == target, $"{path} with the {target} key: served by {response.ServedBy ?? "(not split)"}, {response} {System.Text.Encoding.UTF8.GetString(response.Payload)}");
                // The call reached a model server, which answered with a gRPC status of its own.
                Assert.NotNull(response.GrpcStatus);
                Assert.NotEqual(3, response.GrpcStatus);
            }
        }

        // The peek started the body, so YARP cannot lift its size limit for these streaming-capable calls; it is not told
        // to, and does not warn about it on every call.
        Assert.DoesNotContain(gateway.Log.Entries, e => e.Message.Contains("Unable to disable max request body size", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Grpc_calls_that_name_a_version_or_label_keep_the_routes_cluster()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings(0, 100));
        using var client = new RawGrpcClient(gateway.GrpcAddress);
        var pinned = new (string Path, byte[] Message)[]
        {
            (Predict, ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", version: 1))),
            (Predict, ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", version: 0))),
            (Predict, ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", label: "stable"))),
            ("/tensorflow.serving.ModelService/GetModelStatus", ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist", version: 2))),
            // MultiInference: one task pinned, or tasks naming different models: left to the route.
            ("/tensorflow.serving.PredictionService/MultiInference", [.. InferenceTask(ProtoBytes.ModelSpec("mnist")), .. InferenceTask(ProtoBytes.ModelSpec("mnist", version: 1))]),
            ("/tensorflow.serving.PredictionService/MultiInference", [.. InferenceTask(ProtoBytes.ModelSpec("mnist")), .. InferenceTask(ProtoBytes.ModelSpec("other"))]),
            // Open Inference: model_version (2) set.
            (ModelInfer, [.. ProtoBytes.Field(1, "mnist"), .. ProtoBytes.Field(2, "1"), .. CanaryAnalysisTrustTests.InferMessage(GatewayClient.Rows(1, seed: 92)[0])[7..]]),
        };
        foreach (var (path, message) in pinned)
        {
            var response = await client.CallAsync(path, ProtoBytes.Frame(message));
            Assert.True(response.ServedBy is null, $"{path}: split to {response.ServedBy}");
            Assert.NotNull(response.GrpcStatus);
        }

        // Unpinned, the same calls follow the split (100 % canary).
        Assert.Equal("canary", (await client.CallAsync(Predict, ProtoBytes.Frame(ProtoBytes.Field(1, ProtoBytes.ModelSpec("mnist"))))).ServedBy);
        Assert.Equal("canary", (await client.CallAsync(ModelInfer, ProtoBytes.Frame(CanaryAnalysisTrustTests.InferMessage(GatewayClient.Rows(1, seed: 93)[0])))).ServedBy);
    }

    /// <summary>MultiInferenceRequest.tasks (1): InferenceTask with model_spec 1 and method_name 2.</summary>
    private static byte[] InferenceTask(byte[] modelSpec) => ProtoBytes.Field(1, [.. ProtoBytes.Field(1, modelSpec), .. ProtoBytes.Field(2, "tensorflow/serving/classify")]);
}
