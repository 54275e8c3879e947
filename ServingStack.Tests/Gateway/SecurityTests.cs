using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;
using InputTensor = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferRequest.Types.InferInputTensor;

namespace ServingStack.Tests.Gateway;

/// <summary>JWT and API key authentication on inference routes, admin authorization, and per-client rate limits.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SecurityTests(GatewayServersFixture servers)
{
    private const string KeyA = "client-a-key-0123456789";
    private const string KeyB = "client-b-key-0123456789";
    private const string AdminKey = "test-admin-key-0123456789";

    [Fact]
    public async Task Inference_without_credentials_gets_401_with_a_challenge_while_health_and_metrics_stay_open()
    {
        await using var gateway = await StartAsync();
        var (status, _, _, text) = await GatewayClient.PredictAsync(gateway.Client, GatewayClient.Rows(1, 1)[0]);
        Assert.Equal(401, status);
        Assert.False(string.IsNullOrEmpty(JsonNode.Parse(text)!["error"]!.GetValue<string>()));

        using var response = await gateway.Client.PostAsync("/v2/models/mnist/infer", JsonContent.Create(new { inputs = Array.Empty<object>() }));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenges = response.Headers.WwwAuthenticate.Select(h => h.Scheme).ToList();
        Assert.Contains("Bearer", challenges);
        Assert.Contains("ApiKey", challenges);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);

        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/alive")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task A_valid_token_is_served_and_a_wrongly_signed_expired_or_foreign_token_gets_401()
    {
        await using var gateway = await StartAsync();
        var row = GatewayClient.Rows(1, seed: 21)[0];

        var valid = await PredictAsync(gateway, row, Bearer(SecurityTokens.Mint("alice")));
        Assert.Equal(200, valid.Status);
        TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), valid.Prediction!);

        string[] refused =
        [
            SecurityTokens.Mint("alice", key: SecurityTokens.OtherKey),
            SecurityTokens.Mint("alice", notBefore: DateTime.UtcNow.AddHours(-1), lifetime: TimeSpan.FromMinutes(10)),
            SecurityTokens.Mint("alice", audience: "someone-else"),
            SecurityTokens.Mint("alice", issuer: "https://other.test"),
            "not-a-jwt",
        ];
        foreach (var token in refused)
        {
            using var request = PredictRequest(row, Bearer(token));
            using var response = await gateway.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer" && h.Parameter?.Contains("invalid_token", StringComparison.Ordinal) == true);
            Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]);
        }
    }

    [Fact]
    public async Task Api_keys_are_accepted_in_either_header_and_a_wrong_key_gets_401()
    {
        await using var gateway = await StartAsync();
        var row = GatewayClient.Rows(1, seed: 22)[0];
        var byHeader = await PredictAsync(gateway, row, ("X-Api-Key", KeyA));
        Assert.Equal(200, byHeader.Status);
        TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), byHeader.Prediction!);
        Assert.Equal(200, (await PredictAsync(gateway, row, ("Authorization", "ApiKey " + KeyB))).Status);
        Assert.Equal(401, (await PredictAsync(gateway, row, ("X-Api-Key", KeyA + "x"))).Status);
        Assert.Equal(401, (await PredictAsync(gateway, row, ("Authorization", "ApiKey wrong-key-0123456789"))).Status);
        Assert.Equal(401, (await PredictAsync(gateway, row, ("X-Api-Key", AdminKey))).Status);
    }

    [Fact]
    public async Task Api_keys_alone_protect_inference_without_any_jwt_configuration()
    {
        var settings = servers.Settings();
        settings["Gateway:Auth:ApiKeys:a"] = KeyA;
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 23)[0];
        Assert.Equal(401, (await PredictAsync(gateway, row, Bearer(SecurityTokens.Mint("alice")))).Status);
        Assert.Equal(200, (await PredictAsync(gateway, row, ("X-Api-Key", KeyA))).Status);
    }

    [Fact]
    public async Task The_admin_api_needs_the_admin_key_or_a_token_with_the_admin_role()
    {
        await using var gateway = await StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await AdminStatusAsync(gateway));
        Assert.Equal(HttpStatusCode.Unauthorized, await AdminStatusAsync(gateway, Bearer(SecurityTokens.Mint("root", key: SecurityTokens.OtherKey, claims: ("role", "servingstack-admin")))));
        // A client's API key is a credential, but without the admin scope.
        Assert.Equal(HttpStatusCode.Forbidden, await AdminStatusAsync(gateway, ("X-Api-Key", KeyA)));
        Assert.Equal(HttpStatusCode.Forbidden, await AdminStatusAsync(gateway, Bearer(SecurityTokens.Mint("bob"))));
        Assert.Equal(HttpStatusCode.Forbidden, await AdminStatusAsync(gateway, Bearer(SecurityTokens.Mint("bob", claims: ("role", "reader")))));
        Assert.Equal(HttpStatusCode.OK, await AdminStatusAsync(gateway, Bearer(SecurityTokens.Mint("root", claims: ("role", "servingstack-admin")))));
        Assert.Equal(HttpStatusCode.OK, await AdminStatusAsync(gateway, Bearer(SecurityTokens.Mint("root", claims: ("scope", "read servingstack-admin")))));
        Assert.Equal(HttpStatusCode.OK, await AdminStatusAsync(gateway, ("X-Api-Key", AdminKey)));

        // A token with the role can change weights.
        using var put = new HttpRequestMessage(HttpMethod.Put, "/admin/splits/mnist") { Content = JsonContent.Create(new { weights = new { stable = 50, canary = 50 } }) };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SecurityTokens.Mint("root", claims: ("roles", "servingstack-admin")));
        using var response = await gateway.Client.SendAsync(put);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(50, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["targets"]![1]!["weight"]!.GetValue<int>());
    }

    [Fact]
    public async Task With_only_jwt_configured_the_admin_api_is_on_and_refuses_a_token_without_the_role()
    {
        var settings = servers.Settings();
        settings["Gateway:Auth:Jwt:SigningKey"] = SecurityTokens.SigningKey;
        settings["Gateway:Auth:AdminRole"] = "ops";
        await using var gateway = await GatewayHost.StartAsync(settings);
        Assert.Equal(HttpStatusCode.Unauthorized, await AdminStatusAsync(gateway));
        Assert.Equal(HttpStatusCode.Forbidden, await AdminStatusAsync(gateway, Bearer(SecurityTokens.Mint("x", claims: ("role", "servingstack-admin")))));
        Assert.Equal(HttpStatusCode.OK, await AdminStatusAsync(gateway, Bearer(SecurityTokens.Mint("x", claims: ("role", "ops")))));
    }

    [Fact]
    public async Task A_client_over_its_rate_gets_429_with_retry_after_while_another_client_is_still_served()
    {
        var settings = Secured();
        settings["Gateway:RateLimit:PermitsPerSecond"] = "0.1";
        settings["Gateway:RateLimit:Burst"] = "3";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 24)[0];

        var statuses = new List<int>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var response = await gateway.Client.SendAsync(PredictRequest(row, ("X-Api-Key", KeyA)));
            statuses.Add((int)response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            Assert.Equal([200, 200, 200, 429], statuses);
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refused.Headers.RetryAfter}");
            Assert.Contains("rate", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // Another API key, and a token's subject, have buckets of their own; client A is still refused.
        Assert.Equal(200, (await PredictAsync(gateway, row, ("X-Api-Key", KeyB))).Status);
        Assert.Equal(200, (await PredictAsync(gateway, row, Bearer(SecurityTokens.Mint("carol")))).Status);
        Assert.Equal(429, (await PredictAsync(gateway, row, ("X-Api-Key", KeyA))).Status);
        Assert.Equal(HttpStatusCode.OK, (await gateway.Client.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Grpc_with_a_valid_token_is_served_and_without_one_gets_unauthenticated()
    {
        await using var gateway = await StartAsync();
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(gateway.GrpcChannel);
        var row = GatewayClient.Rows(1, seed: 25)[0];

        var response = await client.ModelInferAsync(InferRequest(row), new Metadata { { "authorization", "Bearer " + SecurityTokens.Mint("dave") }, { "x-target", "stable" } });
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray();
        TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), values);

        var missing = await Assert.ThrowsAsync<RpcException>(async () => await client.ModelInferAsync(InferRequest(row)));
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        var forged = await Assert.ThrowsAsync<RpcException>(async () =>
            await client.ModelInferAsync(InferRequest(row), new Metadata { { "authorization", "Bearer " + SecurityTokens.Mint("dave", key: SecurityTokens.OtherKey) } }));
        Assert.Equal(StatusCode.Unauthenticated, forged.StatusCode);
        var keyed = await client.ModelInferAsync(InferRequest(row), new Metadata { { "x-api-key", KeyB } });
        Assert.Single(keyed.RawOutputContents);
    }

    private Dictionary<string, string?> Secured()
    {
        var settings = servers.Settings(stableWeight: 100, canaryWeight: 0);
        settings["Gateway:AdminApiKey"] = AdminKey;
        settings["Gateway:Auth:Jwt:SigningKey"] = SecurityTokens.SigningKey;
        settings["Gateway:Auth:Jwt:Issuer"] = SecurityTokens.Issuer;
        settings["Gateway:Auth:Jwt:Audience"] = SecurityTokens.Audience;
        settings["Gateway:Auth:ApiKeys:a"] = KeyA;
        settings["Gateway:Auth:ApiKeys:b"] = KeyB;
        return settings;
    }

    private Task<GatewayHost> StartAsync() => GatewayHost.StartAsync(Secured());

    private static (string, string) Bearer(string token) => ("Authorization", "Bearer " + token);

    private static Task<(int Status, string? ServedBy, float[]? Prediction, string Text)> PredictAsync(GatewayHost gateway, float[] row, params (string, string)[] headers) =>
        GatewayClient.PredictAsync(gateway.Client, row, headers);

    private static HttpRequestMessage PredictRequest(float[] row, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/mnist:predict") { Content = JsonContent.Create(new { instances = new[] { row } }) };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static async Task<HttpStatusCode> AdminStatusAsync(GatewayHost gateway, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/splits/mnist");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await gateway.Client.SendAsync(request);
        return response.StatusCode;
    }

    internal static ModelInferRequest InferRequest(float[] row)
    {
        var request = new ModelInferRequest { ModelName = "mnist" };
        var input = new InputTensor { Name = "x", Datatype = "FP32" };
        input.Shape.Add([1, MlpWeights.InputSize]);
        request.Inputs.Add(input);
        request.RawInputContents.Add(ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan())));
        return request;
    }
}
