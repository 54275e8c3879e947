using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// What a client sends is bounded in what the gateway repeats: long client strings are cut in errors and logs, secrets
/// are never logged, and oversized headers are refused.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ClientInputLimitsTests(GatewayServersFixture servers)
{
    private const string AdminKey = "test-admin-key-0123456789";
    private const string ClientKey = "client-key-0123456789abc";
    private const int Huge = 5000;

    /// <summary>About 256 characters of the client's string, a short note and the message around it.</summary>
    private const int MaxEcho = 600;

    [Fact]
    public async Task Huge_model_and_target_names_are_cut_in_admin_errors()
    {
        var settings = servers.Settings();
        settings["Gateway:AdminApiKey"] = AdminKey;
        await using var gateway = await GatewayHost.StartAsync(settings);
        var model = new string('m', Huge);

        using (var get = new HttpRequestMessage(HttpMethod.Get, $"/admin/splits/{model}"))
        {
            get.Headers.Add("X-Api-Key", AdminKey);
            using var response = await gateway.Client.SendAsync(get);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var detail = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
            Assert.True(detail.Length < MaxEcho, $"{detail.Length} characters echoed");
            Assert.Contains($"({Huge} characters)", detail, StringComparison.Ordinal);
        }

        var weights = new JsonObject { ["stable"] = 50 };
        for (var i = 0; i < 50; i++)
        {
            weights[$"{i:D2}-" + new string('t', Huge)] = 1;
        }

        using var put = new HttpRequestMessage(HttpMethod.Put, "/admin/splits/mnist") { Content = JsonContent.Create(new JsonObject { ["weights"] = weights }) };
        put.Headers.Add("X-Api-Key", AdminKey);
        using var refused = await gateway.Client.SendAsync(put);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var text = await refused.Content.ReadAsStringAsync();
        var errors = JsonNode.Parse(text)!["errors"]!["weights"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.All(errors, e => Assert.True(e.Length < MaxEcho, $"{e.Length} characters echoed"));
        Assert.Contains(errors, e => e.Contains($"({Huge + 3} characters)", StringComparison.Ordinal));
        // Fifty unknown targets are not fifty errors of their own: the answer stays small whatever the body holds.
        Assert.True(text.Length < 8 * MaxEcho, $"{text.Length} characters in the answer");
    }

    [Fact]
    public async Task Huge_paths_are_cut_in_the_logs_of_refused_requests()
    {
        var settings = Secured();
        settings["Gateway:MaxRequestBodyBytes"] = "100";
        await using var gateway = await GatewayHost.StartAsync(settings);
        var model = new string('m', Huge);

        using (var unauthenticated = await gateway.Client.PostAsync($"/v1/models/{model}:predict", new StringContent("{}")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, unauthenticated.StatusCode);
        }

        using (var admin = await gateway.Client.GetAsync($"/admin/splits/{model}"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, admin.StatusCode);
        }

        using (var tooLarge = new HttpRequestMessage(HttpMethod.Post, $"/v1/models/{model}:predict") { Content = new StringContent(new string(' ', 1000)) })
        {
            tooLarge.Headers.Add("X-Api-Key", ClientKey);
            using var response = await gateway.Client.SendAsync(tooLarge);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        }

        foreach (var id in new[] { 4101, 4002, 1002 })
        {
            var entry = Assert.Single(gateway.Log.Entries, e => e.EventId.Id == id);
            Assert.True(entry.Message.Length < MaxEcho, $"event {id}: {entry.Message.Length} characters logged");
        }

        // The gateway's own logs (the framework's request logs are off below Warning by default).
        Assert.DoesNotContain(gateway.Log.Entries, e => e.Category.StartsWith("ServingStack.Gateway", StringComparison.Ordinal) && e.Message.Contains(model, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Keys_and_tokens_are_never_logged()
    {
        await using var gateway = await GatewayHost.StartAsync(Secured());
        var row = GatewayClient.Rows(1, seed: 81)[0];
        var valid = SecurityTokens.Mint("alice");
        var forged = SecurityTokens.Mint("mallory", key: SecurityTokens.OtherKey);
        var expired = SecurityTokens.Mint("alice", notBefore: DateTime.UtcNow.AddHours(-1));
        var wrongKey = "wrong-key-" + Guid.NewGuid().ToString("N");
        var wrongAdmin = "wrong-admin-" + Guid.NewGuid().ToString("N");

        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, row, ("Authorization", "Bearer " + valid))).Status);
        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", ClientKey))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row, ("Authorization", "Bearer " + forged))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row, ("Authorization", "Bearer " + expired))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", wrongKey))).Status);
        Assert.Equal(401, (await GatewayClient.PredictAsync(gateway.Client, row, ("X-Api-Key", AdminKey))).Status);
        foreach (var key in new[] { wrongAdmin, AdminKey })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/splits/mnist");
            request.Headers.Add("X-Api-Key", key);
            using var response = await gateway.Client.SendAsync(request);
        }

        Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 4101);
        Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 4002);
        foreach (var secret in new[] { valid, forged, expired, wrongKey, wrongAdmin, AdminKey, ClientKey, SecurityTokens.SigningKey })
        {
            // A JWT's signature is its last part; no log may hold it (or the key that made it).
            var part = secret.Contains('.', StringComparison.Ordinal) ? secret[(secret.LastIndexOf('.') + 1)..] : secret;
            Assert.DoesNotContain(gateway.Log.Entries, e => e.Message.Contains(part, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Request_headers_over_the_limit_are_refused_with_431()
    {
        await using (var defaults = await GatewayHost.StartAsync(servers.Settings()))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models/mnist");
            request.Headers.Add("X-Padding", new string('p', 40 * 1024));
            using var response = await defaults.Client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.RequestHeaderFieldsTooLarge, $"{response.StatusCode}: {response} {await response.Content.ReadAsStringAsync()}");
        }

        var settings = servers.Settings();
        settings["Kestrel:Limits:MaxRequestHeadersTotalSize"] = "8192";
        await using var limited = await GatewayHost.StartAsync(settings);
        var row = GatewayClient.Rows(1, seed: 82)[0];
        Assert.Equal(200, (await GatewayClient.PredictAsync(limited.Client, row, ("X-Padding", new string('p', 4 * 1024)))).Status);
        using var over = new HttpRequestMessage(HttpMethod.Get, "/v1/models/mnist");
        over.Headers.Add("X-Padding", new string('p', 10 * 1024));
        using var refused = await limited.Client.SendAsync(over);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.StatusCode);
    }

    private Dictionary<string, string?> Secured()
    {
        var settings = servers.Settings(100, 0);
        settings["Gateway:AdminApiKey"] = AdminKey;
        settings["Gateway:Auth:Jwt:SigningKey"] = SecurityTokens.SigningKey;
        settings["Gateway:Auth:Jwt:Issuer"] = SecurityTokens.Issuer;
        settings["Gateway:Auth:Jwt:Audience"] = SecurityTokens.Audience;
        settings["Gateway:Auth:ApiKeys:client"] = ClientKey;
        return settings;
    }
}
