using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>The gateway's own failures on inference routes keep the protocols' error shape; model servers' answers pass as they are.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ProxyErrorTests(GatewayServersFixture servers)
{
    [Fact]
    public async Task A_body_over_the_limit_gets_413_with_an_error_body_and_grpc_gets_resource_exhausted()
    {
        var settings = servers.Settings(stableWeight: 100, canaryWeight: 0);
        settings["Gateway:MaxRequestBodyBytes"] = "16384";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 31)[0];
        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, row)).Status);

        // Expect: 100-continue keeps the client from sending a body the gateway refuses unread (HTTP/1.1 would otherwise
        // race the refusal against the upload and may see the connection close instead of the answer).
        var big = "{\"instances\": [[" + string.Join(",", Enumerable.Repeat("0.5", 10_000)) + "]]}";
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/mnist:predict") { Content = new StringContent(big, Encoding.UTF8, "application/json") })
        {
            request.Headers.ExpectContinue = true;
            using var response = await gateway.Client.SendAsync(request);
            await AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "limit of 16384 bytes");
        }

        // gRPC sends no Content-Length: the limit is hit while the body streams to the model server (HTTP/2: the stream
        // is refused, the connection stays).
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);
        var grpcRequest = SecurityTests.InferRequest(row);
        grpcRequest.RawInputContents[0] = Google.Protobuf.ByteString.CopyFrom(new byte[40_000]);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(grpcRequest));
        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("limit of 16384 bytes", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_model_server_gets_502_with_an_error_body_and_grpc_gets_unavailable()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:v2:ClusterId"] = "dead",
            ["ReverseProxy:Routes:v2:Match:Path"] = "/v2/{**rest}",
            ["ReverseProxy:Routes:grpc:ClusterId"] = "dead-grpc",
            ["ReverseProxy:Routes:grpc:Match:Path"] = "/inference.GRPCInferenceService/{**rest}",
            ["ReverseProxy:Clusters:dead:Destinations:a:Address"] = GatewayHost.ClosedPortAddress(),
            ["ReverseProxy:Clusters:dead-grpc:Destinations:a:Address"] = GatewayHost.ClosedPortAddress(),
            ["ReverseProxy:Clusters:dead-grpc:HttpRequest:Version"] = "2",
            ["ReverseProxy:Clusters:dead-grpc:HttpRequest:VersionPolicy"] = "RequestVersionExact",
        });
        using (var response = await gateway.Client.PostAsync("/v2/models/mnist/infer", new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            await AssertErrorAsync(response, HttpStatusCode.BadGateway, "could not be reached");
        }

        var client = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(SecurityTests.InferRequest(GatewayClient.Rows(1, seed: 32)[0])));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Contains("could not be reached", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_servers_own_error_passes_through_unchanged()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings());
        using var direct = await servers.Both.Client.PostAsync("/v1/models/nope:predict", new StringContent("{\"instances\": [[1]]}", Encoding.UTF8, "application/json"));
        using var proxied = await gateway.Client.PostAsync("/v1/models/nope:predict", new StringContent("{\"instances\": [[1]]}", Encoding.UTF8, "application/json"));
        Assert.Equal(direct.StatusCode, proxied.StatusCode);
        Assert.Equal(await direct.Content.ReadAsStringAsync(), await proxied.Content.ReadAsStringAsync());
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string text)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(text, JsonNode.Parse(body)!["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
