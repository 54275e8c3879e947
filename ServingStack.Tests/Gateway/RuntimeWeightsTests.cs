using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>Weights change at run time, through the admin API and through a configuration reload, without failed requests.</summary>
[Collection(GatewayCollection.Name)]
public sealed class RuntimeWeightsTests(GatewayServersFixture servers)
{
    private const string AdminKey = "test-admin-key-0123456789";

    [Fact]
    public async Task The_admin_api_refuses_requests_without_or_with_a_wrong_key()
    {
        await using var gateway = await StartAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client.GetAsync("/admin/splits/mnist")).StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Put, "/admin/splits/mnist") { Content = JsonContent.Create(new { weights = new { canary = 100 } }) };
        wrong.Headers.Add("X-Api-Key", "not-the-key-but-long-enough");
        using var response = await gateway.Client.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(10, (await GetSplitAsync(gateway))["targets"]![1]!["weight"]!.GetValue<int>());
    }

    [Fact]
    public async Task Without_an_admin_key_the_admin_api_is_off_and_inference_is_open()
    {
        await using var gateway = await GatewayHost.StartAsync(servers.Settings());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/splits/mnist");
        request.Headers.Add("X-Api-Key", AdminKey);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Client.SendAsync(request)).StatusCode);
        Assert.Equal(200, (await GatewayClient.PredictAsync(gateway.Client, GatewayClient.Rows(1, 1)[0])).Status);
    }

    [Fact]
    public async Task Invalid_weights_are_refused_with_problem_details_listing_every_error()
    {
        await using var gateway = await StartAsync();
        using var response = await PutAsync(gateway, new JsonObject { ["weights"] = new JsonObject { ["stable"] = -1, ["nope"] = 5 } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var errors = problem["errors"]!["weights"]!.AsArray().Select(e => e!.GetValue<string>()).ToList();
        Assert.Contains(errors, e => e.Contains("'nope'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains(">= 0", StringComparison.Ordinal));

        using var allZero = await PutAsync(gateway, new JsonObject { ["weights"] = new JsonObject { ["stable"] = 0, ["canary"] = 0 } });
        Assert.Equal(HttpStatusCode.BadRequest, allZero.StatusCode);
        Assert.Contains("positive", await allZero.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var unknown = await PutAsync(gateway, new JsonObject { ["weights"] = new JsonObject { ["stable"] = 1 } }, "other");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(90, (await GetSplitAsync(gateway))["targets"]![0]!["weight"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("{not json", "application/json", 400)]
    [InlineData("{\"weights\": {\"stable\": \"x\"}}", "application/json", 400)]
    [InlineData("{}", "text/plain", 415)]
    public async Task A_malformed_admin_request_gets_problem_details(string body, string contentType, int status)
    {
        await using var gateway = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Put, "/admin/splits/mnist") { Content = new StringContent(body, System.Text.Encoding.UTF8, contentType) };
        request.Headers.Add("X-Api-Key", AdminKey);
        using var response = await gateway.Client.SendAsync(request);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(status, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_weight_change_through_the_admin_api_takes_effect_without_restart_or_failed_requests()
    {
        await using var gateway = await StartAsync(stable: 100, canary: 0);
        await WithTrafficAsync(gateway, async () =>
        {
            using var response = await PutAsync(gateway, new JsonObject { ["weights"] = new JsonObject { ["stable"] = 0, ["canary"] = 100 } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var split = await GetSplitAsync(gateway);
            Assert.Equal("admin", split["source"]!.GetValue<string>());
            Assert.Equal(100, split["targets"]![1]!["weight"]!.GetValue<int>());
        });
    }

    [Fact]
    public async Task A_weight_change_through_configuration_takes_effect_without_restart_or_failed_requests()
    {
        await using var gateway = await StartAsync(stable: 100, canary: 0);
        await WithTrafficAsync(gateway, () =>
        {
            gateway.Reconfigure(new Dictionary<string, string?>
            {
                ["Gateway:Splits:mnist:Targets:0:Weight"] = "0",
                ["Gateway:Splits:mnist:Targets:1:Weight"] = "100",
            });
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task An_invalid_configuration_reload_keeps_the_previous_split_and_logs_why()
    {
        await using var gateway = await StartAsync(stable: 100, canary: 0);
        gateway.Reconfigure(new Dictionary<string, string?> { ["Gateway:Splits:mnist:Targets:0:Weight"] = "-5" });
        Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 2002 && e.Message.Contains(">= 0", StringComparison.Ordinal));
        Assert.Equal(100, (await GetSplitAsync(gateway))["targets"]![0]!["weight"]!.GetValue<int>());
        Assert.Equal("stable", (await GatewayClient.PredictAsync(gateway.Client, GatewayClient.Rows(1, 2)[0])).ServedBy);
    }

    /// <summary>Runs requests from 8 clients before, during and after <paramref name="change"/> (stable → canary) and checks none failed.</summary>
    private static async Task WithTrafficAsync(GatewayHost gateway, Func<Task> change)
    {
        var row = GatewayClient.Rows(1, seed: 11)[0];
        var failures = new ConcurrentQueue<string>();
        var served = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(0, 8).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, by, _, text) = await GatewayClient.PredictAsync(gateway.Client, row);
                if (status != 200)
                {
                    failures.Enqueue($"{status}: {text}");
                }

                served.Enqueue(by ?? "?");
            }
        }).ToList();

        await Eventually.TrueAsync(() => served.Count >= 50, "traffic before the change");
        Assert.DoesNotContain("canary", served);
        await change();
        var mark = served.Count;
        await Eventually.TrueAsync(() => served.Skip(mark).Count(s => s == "canary") >= 50, "traffic on the canary after the change");
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
        Assert.Equal("canary", (await GatewayClient.PredictAsync(gateway.Client, row)).ServedBy);
    }

    private async Task<GatewayHost> StartAsync(int stable = 90, int canary = 10)
    {
        var settings = servers.Settings(stable, canary);
        settings["Gateway:AdminApiKey"] = AdminKey;
        return await GatewayHost.StartAsync(settings);
    }

    private static async Task<JsonNode> GetSplitAsync(GatewayHost gateway)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/splits/mnist");
        request.Headers.Add("X-Api-Key", AdminKey);
        using var response = await gateway.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!;
    }

    private static async Task<HttpResponseMessage> PutAsync(GatewayHost gateway, JsonObject body, string model = "mnist")
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/admin/splits/{model}") { Content = JsonContent.Create(body) };
        request.Headers.Add("X-Api-Key", AdminKey);
        return await gateway.Client.SendAsync(request);
    }
}
