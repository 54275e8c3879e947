using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Routing;
using ServingStack.Gateway.Splits;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>Path parsing and pinning, the gRPC model-name peek, the stable hash, and startup validation.</summary>
public sealed class GatewayUnitTests
{
    [Theory]
    [InlineData("/v1/models/m:predict", "/v1/models/m/labels/canary:predict", 2L, "canary")]
    [InlineData("/v1/models/m:predict", "/v1/models/m/versions/2:predict", 2L, null)]
    [InlineData("/v1/models/m/metadata", "/v1/models/m/versions/2/metadata", 2L, null)]
    [InlineData("/v2/models/m/infer", "/v2/models/m/versions/2/infer", 2L, "canary")]
    [InlineData("/v2/models/m", "/v2/models/m/versions/2", 2L, null)]
    [InlineData("/v1/models/m/versions/7:predict", "/v1/models/m/versions/7:predict", 2L, "canary")]
    [InlineData("/v2/models/m/versions/7/infer", "/v2/models/m/versions/7/infer", 2L, null)]
    public void Rest_paths_are_pinned_after_the_model_unless_already_pinned(string path, string expected, long version, string? label)
    {
        Assert.True(InferencePath.TryParse(path, out var request));
        Assert.Equal("m", request.Model);
        Assert.Equal(expected, InferencePath.Pin(path, request, version, label));
    }

    [Theory]
    [InlineData("/metrics")]
    [InlineData("/v1/models/")]
    [InlineData("/v3/models/m")]
    public void Other_paths_are_not_inference_requests(string path) => Assert.False(InferencePath.TryParse(path, out _));

    [Fact]
    public void The_grpc_peek_reads_model_name_and_version_from_a_framed_request_and_needs_more_bytes_when_cut_short()
    {
        var request = new ModelInferRequest { ModelName = "résumé-model", ModelVersion = "3" };
        request.RawInputContents.Add(ByteString.CopyFrom(new byte[10_000]));
        var message = request.ToByteArray();
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
        message.CopyTo(frame, 5);

        var peek = GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>(frame), GrpcModelField.OpenInference);
        Assert.Equal(GrpcPeekOutcome.Found, peek.Outcome);
        Assert.Equal("résumé-model", peek.Model);
        Assert.True(peek.Pinned);
        Assert.Equal(GrpcPeekOutcome.NeedMore, GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>(frame, 0, 9), GrpcModelField.OpenInference).Outcome);
        Assert.Equal(GrpcPeekOutcome.NotPresent, GrpcModelNameReader.TryRead(new ReadOnlySequence<byte>([0, 0, 0, 0, 0]), GrpcModelField.OpenInference).Outcome);
    }

    [Fact]
    public void The_sticky_hash_is_stable_and_spreads_keys_by_weight()
    {
        Assert.Equal(StableHash.Fnv1a64("user-1"), StableHash.Fnv1a64("user-1"));
        Assert.NotEqual(StableHash.Fnv1a64("user-1"), StableHash.Fnv1a64("user-2"));
        var options = new ModelSplitOptions();
        options.Targets.Add(new SplitTargetOptions { Name = "a", Cluster = "c", Weight = 90 });
        options.Targets.Add(new SplitTargetOptions { Name = "b", Cluster = "c", Weight = 10 });
        var split = ModelSplit.From("m", options, "test", DateTimeOffset.UnixEpoch);
        var onB = Enumerable.Range(0, 10_000).Count(i => WeightedSplitPolicy.Choose(split, StableHash.Fnv1a64($"key-{i}"))!.Name == "b");
        Assert.InRange(onB, 850, 1150);
    }

    [Fact]
    public async Task Startup_refuses_a_bad_gateway_section_and_lists_every_error()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:known:Destinations:a:Address"] = "http://127.0.0.1:1",
            ["Gateway:AdminApiKey"] = "short",
            ["Gateway:Splits:m:Targets:0:Name"] = "a",
            ["Gateway:Splits:m:Targets:0:Cluster"] = "missing",
            ["Gateway:Splits:m:Targets:0:Weight"] = "-1",
            ["Gateway:Splits:m:Targets:1:Name"] = "a",
            ["Gateway:Splits:m:Targets:1:Cluster"] = "known",
            ["Gateway:Splits:m:Targets:1:Label"] = "canary",
        };
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));
        var message = string.Join("\n", exception.Failures);
        Assert.Contains("AdminApiKey must be at least 16", message, StringComparison.Ordinal);
        Assert.Contains("cluster 'missing' is not in ReverseProxy:Clusters", message, StringComparison.Ordinal);
        Assert.Contains("Weight must be >= 0", message, StringComparison.Ordinal);
        Assert.Contains("'a' is used twice", message, StringComparison.Ordinal);
        Assert.Contains("needs a Version too", message, StringComparison.Ordinal);
        Assert.Contains("at least one target needs a positive Weight", message, StringComparison.Ordinal);
    }
}
