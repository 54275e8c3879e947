using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Gateway;

/// <summary>Authorization per proxy route through YARP's own <c>AuthorizationPolicy</c>: anonymous, default, or a named policy.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RouteAuthorizationTests(GatewayServersFixture servers)
{
    private const string Key = "client-a-key-0123456789";

    [Fact]
    public async Task A_route_marked_anonymous_is_open_while_a_route_without_a_policy_requires_a_credential()
    {
        var settings = Secured();
        settings["ReverseProxy:Routes:v1:AuthorizationPolicy"] = "anonymous";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 41)[0];

        var open = await GatewayClient.PredictAsync(gateway.Client, row);
        Assert.True(open.Status == 200, open.Text);
        TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), open.Prediction!);

        using (var refused = await InferV2Async(gateway, row))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal(["Bearer", "ApiKey"], refused.Headers.WwwAuthenticate.Select(h => h.Scheme));
            Assert.Contains("authentication required", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        using (var served = await InferV2Async(gateway, row, ("Authorization", "Bearer " + SecurityTokens.Mint("alice"))))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using (var keyed = await InferV2Async(gateway, row, ("X-Api-Key", Key)))
        {
            Assert.Equal(HttpStatusCode.OK, keyed.StatusCode);
        }

        var client = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);
        var grpc = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(SecurityTests.InferRequest(row)));
        Assert.Equal(StatusCode.Unauthenticated, grpc.StatusCode);
    }

    [Fact]
    public async Task A_route_with_a_named_policy_admits_only_tokens_with_its_role()
    {
        var settings = Secured();
        settings["Gateway:Auth:Policies:scorers:Schemes:0"] = "Bearer";
        settings["Gateway:Auth:Policies:scorers:Roles:0"] = "scorer";
        settings["ReverseProxy:Routes:v2:AuthorizationPolicy"] = "scorers";
        settings["ReverseProxy:Routes:v1:AuthorizationPolicy"] = "default";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 42)[0];

        using (var withRole = await InferV2Async(gateway, row, ("Authorization", "Bearer " + SecurityTokens.Mint("sam", claims: ("role", "scorer")))))
        {
            Assert.Equal(HttpStatusCode.OK, withRole.StatusCode);
        }

        using (var withoutRole = await InferV2Async(gateway, row, ("Authorization", "Bearer " + SecurityTokens.Mint("sam"))))
        {
            Assert.Equal(HttpStatusCode.Forbidden, withoutRole.StatusCode);
            Assert.Contains("role", JsonNode.Parse(await withoutRole.Content.ReadAsStringAsync())!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // The policy takes tokens only: an API key is not a credential there, and the challenge names Bearer alone.
        using (var keyed = await InferV2Async(gateway, row, ("X-Api-Key", Key)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, keyed.StatusCode);
            Assert.Equal(["Bearer"], keyed.Headers.WwwAuthenticate.Select(h => h.Scheme));
        }

        // 'default' is any configured credential.
        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", Key))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row)).Status);
    }

    [Fact]
    public async Task Startup_refuses_route_policies_that_cannot_be_enforced_and_names_each_route()
    {
        var open = Routes();
        open["ReverseProxy:Routes:v1:AuthorizationPolicy"] = "default";
        open["ReverseProxy:Routes:v2:AuthorizationPolicy"] = "anonymous";
        var withoutCredentials = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(open));
        var message = string.Join("\n", withoutCredentials.Failures);
        Assert.Contains("ReverseProxy:Routes:v1:AuthorizationPolicy is 'default', but Gateway:Auth configures no credential", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Routes:v2", message, StringComparison.Ordinal);

        var keyed = Routes();
        keyed["Gateway:Auth:ApiKeys:a"] = Key;
        keyed["Gateway:Auth:Policies:anonymous:Roles:0"] = "x";
        keyed["Gateway:Auth:Policies:tokens:Schemes:0"] = "Bearer";
        keyed["Gateway:Auth:Policies:odd:Schemes:0"] = "Basic";
        keyed["Gateway:Auth:Policies:odd:Roles:0"] = " ";
        keyed["ReverseProxy:Routes:v1:AuthorizationPolicy"] = "nope";
        var unknown = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(keyed));
        message = string.Join("\n", unknown.Failures);
        Assert.Contains("ReverseProxy:Routes:v1:AuthorizationPolicy is 'nope', which is not in Gateway:Auth:Policies", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Auth:Policies:anonymous: 'anonymous' is a name YARP reserves", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Auth:Policies:tokens:Schemes:0 is 'Bearer', which is not configured", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Auth:Policies:odd:Schemes:0 must be 'Bearer' or 'ApiKey'", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Auth:Policies:odd:Roles:0 must not be empty", message, StringComparison.Ordinal);
    }

    private Dictionary<string, string?> Secured()
    {
        var settings = servers.Settings(stableWeight: 100, canaryWeight: 0);
        settings["Gateway:Auth:Jwt:SigningKey"] = SecurityTokens.SigningKey;
        settings["Gateway:Auth:Jwt:Issuer"] = SecurityTokens.Issuer;
        settings["Gateway:Auth:Jwt:Audience"] = SecurityTokens.Audience;
        settings["Gateway:Auth:ApiKeys:a"] = Key;
        return settings;
    }

    private static Dictionary<string, string?> Routes() => new()
    {
        ["ReverseProxy:Routes:v1:ClusterId"] = "c",
        ["ReverseProxy:Routes:v1:Match:Path"] = "/v1/{**rest}",
        ["ReverseProxy:Routes:v2:ClusterId"] = "c",
        ["ReverseProxy:Routes:v2:Match:Path"] = "/v2/{**rest}",
        ["ReverseProxy:Clusters:c:Destinations:a:Address"] = GatewayHost.ClosedPortAddress(),
    };

    private static async Task<HttpResponseMessage> InferV2Async(GatewayHost gateway, float[] row, params (string Name, string Value)[] headers)
    {
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
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await gateway.Client.SendAsync(request);
    }
}
