using Grpc.Core;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// What the corpora promise: at least 200 distinct hostile requests over REST (both APIs), gRPC (both APIs, raw frames
/// too) and the gateway, each stating a client-error status and, unless the HTTP server refuses it bare, a fragment of
/// the message it must get.
/// </summary>
public sealed class HostileCorpusInventoryTests
{
    [Fact]
    public void The_corpora_hold_at_least_200_distinct_requests_each_with_a_client_error_and_a_fragment()
    {
        var rest = HostileRequest.Load("rest-corpus.json");
        var grpc = HostileGrpcCall.Load("grpc-corpus.json");
        var gatewayRest = HostileRequest.Load("gateway-corpus.json");
        var gatewayGrpc = HostileGrpcCall.Load("gateway-corpus.json");
        var names = rest.Select(r => "rest " + r.Name).Concat(grpc.Select(c => "grpc " + c.Name))
            .Concat(gatewayRest.Select(r => "gateway " + r.Name)).Concat(gatewayGrpc.Select(c => "gateway grpc " + c.Name)).ToList();

        Assert.True(names.Count >= 200, $"{names.Count} requests");
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        Assert.All(rest.Concat(gatewayRest), r =>
        {
            Assert.InRange(r.Status, 400, 499);
            Assert.True(r.Bare || r.Contains.Count > 0, $"{r.Name} states no message fragment");
        });
        Assert.All(grpc.Concat(gatewayGrpc), c =>
        {
            Assert.DoesNotContain(c.Status, new[] { StatusCode.OK, StatusCode.Unknown, StatusCode.Internal });
            Assert.True(c.Contains.Count > 0, $"{c.Name} states no message fragment");
        });
        Assert.Contains(grpc, c => c.Method.StartsWith("/inference.", StringComparison.Ordinal));
        Assert.Contains(grpc, c => c.Method.StartsWith("/tensorflow.serving.PredictionService/", StringComparison.Ordinal));
        Assert.Contains(grpc, c => c.Method.StartsWith("/tensorflow.serving.ModelService/", StringComparison.Ordinal));
        Assert.Contains(rest, r => r.Path.StartsWith("/v1/", StringComparison.Ordinal));
        Assert.Contains(rest, r => r.Path.StartsWith("/v2/", StringComparison.Ordinal));
    }
}
