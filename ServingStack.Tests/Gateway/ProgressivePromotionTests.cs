using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ServingStack.Gateway.Splits;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// Progressive promotion with real servers and a fake clock: each analysis window gets a known number of requests per
/// target (through sticky keys that the split maps to each target at its current weights: requests the split itself
/// routes, as analysis counts them), then the clock closes it.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class ProgressivePromotionTests(GatewayServersFixture servers)
{
    private const string AdminKey = "test-admin-key-0123456789";
    private const int PerTarget = 8;

    [Fact]
    public async Task A_healthy_canary_advances_one_step_per_two_healthy_windows_until_it_takes_all_traffic()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        await using var gateway = await GatewayHost.StartAsync(Settings(healthyWindows: 2), services => services.AddSingleton<TimeProvider>(time));
        var row = GatewayClient.Rows(1, seed: 51)[0];
        var view = await GetSplitAsync(gateway);
        Assert.Equal("progressing", view["promotion"]!["status"]!.GetValue<string>());
        Assert.Equal(10, view["promotion"]!["percent"]!.GetValue<int>());
        Assert.Equal(25, view["promotion"]!["nextStep"]!.GetValue<int>());

        var canary = 10;
        foreach (var step in new[] { 25, 50, 100 })
        {
            await HealthyWindowAsync(gateway, time, row);
            AssertWeights(gateway, stable: 100 - canary, canary: canary);
            await HealthyWindowAsync(gateway, time, row);
            AssertWeights(gateway, stable: 100 - step, canary: step);
            canary = step;

            view = await GetSplitAsync(gateway);
            Assert.Equal("promotion", view["source"]!.GetValue<string>());
            Assert.Equal(step, view["promotion"]!["percent"]!.GetValue<int>());
            Assert.Equal(step == 100 ? "completed" : "progressing", view["promotion"]!["status"]!.GetValue<string>());
        }

        Assert.Equal(3, gateway.Log.Entries.Count(e => e.EventId.Id == 3003));
        Assert.Single(gateway.Log.Entries, e => e.EventId.Id == 3004 && e.Message.Contains("canary", StringComparison.Ordinal));
        await Eventually.TrueAsync(async () => (await gateway.Client.GetStringAsync("/metrics")).Split('\n')
            .Any(l => l.StartsWith("gateway_canary_promotions_total{", StringComparison.Ordinal) && l.Contains("model=\"mnist\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal)),
            "the completed promotion on /metrics");

        // Complete: more healthy windows change nothing, resuming is refused, and every request goes to the canary (v2).
        await HealthyWindowAsync(gateway, time, row, stableRequests: 0);
        AssertWeights(gateway, stable: 0, canary: 100);
        using var resume = await PostResumeAsync(gateway);
        Assert.Equal(HttpStatusCode.Conflict, resume.StatusCode);
        Assert.Equal("application/problem+json", resume.Content.Headers.ContentType?.MediaType);
        for (var i = 0; i < 10; i++)
        {
            var (status, by, prediction, text) = await GatewayClient.PredictAsync(gateway.Client, row);
            Assert.True(status == 200, text);
            Assert.Equal("canary", by);
            TfServingPredictTests.AssertClose(servers.CanaryWeights.Evaluate(row), prediction!);
        }
    }

    [Fact]
    public async Task A_canary_that_fails_mid_promotion_is_rolled_back_and_its_promotion_stops()
    {
        using var repository = new TempModelRepository();
        repository.AddMlp(GatewayServersFixture.Model, 2, GatewayServersFixture.CanarySeed);
        var config = repository.WriteConfig("models.config", """
            model_config_list { config { name: 'mnist' base_path: 'mnist' version_labels { key: 'canary' value: 2 } } }
            """);
        var canaryServer = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var canaryStopped = false;
        try
        {
            var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture));
            var settings = Settings(healthyWindows: 1, canaryCluster: canaryServer.Address.ToString());
            settings["Gateway:CanaryAnalysis:ConsecutiveWindows"] = "1";
            await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(time));
            var row = GatewayClient.Rows(1, seed: 52)[0];

            await HealthyWindowAsync(gateway, time, row);
            AssertWeights(gateway, stable: 75, canary: 25);

            // The canary's server goes away: its requests fail, stable's do not.
            await canaryServer.DisposeAsync();
            canaryStopped = true;
            var analyzer = gateway.Services.GetRequiredService<CanaryAnalyzer>();
            var split = gateway.Services.GetRequiredService<SplitRegistry>().Get("mnist")!;
            for (var i = 0; i < PerTarget; i++)
            {
                var failed = await GatewayClient.PredictAsync(gateway.Client, row, ("X-User", GatewayClient.StickyKeyFor(split, "canary")));
                Assert.True(failed.Status == 502, failed.Text);
                var served = await GatewayClient.PredictAsync(gateway.Client, row, ("X-User", GatewayClient.StickyKeyFor(split, "stable")));
                Assert.True(served.Status == 200, served.Text);
                TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), served.Prediction!);
            }

            await Eventually.TrueAsync(() => analyzer.Pending("mnist", "canary") == PerTarget && analyzer.Pending("mnist", "stable") == PerTarget,
                "the window to hold every request");
            time.Advance(TimeSpan.FromSeconds(10));

            AssertWeights(gateway, stable: 75, canary: 0);
            var view = await GetSplitAsync(gateway);
            Assert.Equal("canary-analysis", view["source"]!.GetValue<string>());
            Assert.Equal("stopped", view["promotion"]!["status"]!.GetValue<string>());
            Assert.Contains("error rate", view["promotion"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 3005 && e.Message.Contains("stopped at 25%", StringComparison.Ordinal));

            // Stopped: a later window does not advance it, and every request is served by stable.
            await HealthyWindowAsync(gateway, time, row, canaryRequests: 0);
            AssertWeights(gateway, stable: 75, canary: 0);
            for (var i = 0; i < 10; i++)
            {
                var (status, by, _, text) = await GatewayClient.PredictAsync(gateway.Client, row);
                Assert.True(status == 200, text);
                Assert.Equal("stable", by);
            }
        }
        finally
        {
            if (!canaryStopped)
            {
                await canaryServer.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Setting_weights_through_the_admin_api_pauses_the_promotion_until_it_is_resumed()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        await using var gateway = await GatewayHost.StartAsync(Settings(healthyWindows: 1), services => services.AddSingleton<TimeProvider>(time));
        var row = GatewayClient.Rows(1, seed: 53)[0];
        await HealthyWindowAsync(gateway, time, row);
        AssertWeights(gateway, stable: 75, canary: 25);

        using (var put = new HttpRequestMessage(HttpMethod.Put, "/admin/splits/mnist") { Content = JsonContent.Create(new { weights = new { stable = 70, canary = 30 } }) })
        {
            put.Headers.Add("X-Api-Key", AdminKey);
            using var response = await gateway.Client.SendAsync(put);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var view = await GetSplitAsync(gateway);
        Assert.Equal("paused", view["promotion"]!["status"]!.GetValue<string>());
        Assert.Contains("admin", view["promotion"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        await HealthyWindowAsync(gateway, time, row);
        AssertWeights(gateway, stable: 70, canary: 30);

        using (var resume = await PostResumeAsync(gateway))
        {
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
            var resumed = JsonNode.Parse(await resume.Content.ReadAsStringAsync())!["promotion"]!;
            Assert.Equal("progressing", resumed["status"]!.GetValue<string>());
            Assert.Equal(50, resumed["nextStep"]!.GetValue<int>());
        }

        await HealthyWindowAsync(gateway, time, row);
        AssertWeights(gateway, stable: 50, canary: 50);
        Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 2004);
        Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 2005);

        using var unknown = await PostResumeAsync(gateway, "other");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_reload_that_changes_the_split_restarts_the_promotion_and_any_other_reload_keeps_it()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", CultureInfo.InvariantCulture));
        await using var gateway = await GatewayHost.StartAsync(Settings(healthyWindows: 1), services => services.AddSingleton<TimeProvider>(time));
        var row = GatewayClient.Rows(1, seed: 54)[0];
        await HealthyWindowAsync(gateway, time, row);
        AssertWeights(gateway, stable: 75, canary: 25);

        gateway.Reconfigure(new Dictionary<string, string?> { ["Gateway:CanaryAnalysis:MinRequests"] = "6" });
        AssertWeights(gateway, stable: 75, canary: 25);
        Assert.Equal("promotion", (await GetSplitAsync(gateway))["source"]!.GetValue<string>());

        gateway.Reconfigure(new Dictionary<string, string?> { ["Gateway:Splits:mnist:Promotion:HealthyWindows"] = "2" });
        AssertWeights(gateway, stable: 90, canary: 10);
        var view = await GetSplitAsync(gateway);
        Assert.Equal("configuration", view["source"]!.GetValue<string>());
        Assert.Equal("progressing", view["promotion"]!["status"]!.GetValue<string>());
        Assert.Equal(2, view["promotion"]!["healthyWindows"]!.GetValue<int>());
    }

    private Dictionary<string, string?> Settings(int healthyWindows, string? canaryCluster = null)
    {
        var settings = servers.Settings(90, 10, canaryCluster);
        settings["Gateway:AdminApiKey"] = AdminKey;
        settings["Gateway:CanaryAnalysis:WindowSeconds"] = "10";
        settings["Gateway:CanaryAnalysis:MinRequests"] = "5";
        // Latency is not judged here: both targets share one server, and a tiny window's p99 is noisy.
        settings["Gateway:CanaryAnalysis:LatencyFactor"] = "1000";
        settings["Gateway:Splits:mnist:Promotion:Steps:0"] = "10";
        settings["Gateway:Splits:mnist:Promotion:Steps:1"] = "25";
        settings["Gateway:Splits:mnist:Promotion:Steps:2"] = "50";
        settings["Gateway:Splits:mnist:Promotion:Steps:3"] = "100";
        settings["Gateway:Splits:mnist:Promotion:HealthyWindows"] = healthyWindows.ToString(CultureInfo.InvariantCulture);
        return settings;
    }

    /// <summary>Sends <paramref name="canaryRequests"/> and <paramref name="stableRequests"/> requests, all answered 200, then closes the window.</summary>
    private async Task HealthyWindowAsync(GatewayHost gateway, FakeTimeProvider time, float[] row, int canaryRequests = PerTarget, int stableRequests = PerTarget)
    {
        var analyzer = gateway.Services.GetRequiredService<CanaryAnalyzer>();
        var split = gateway.Services.GetRequiredService<SplitRegistry>().Get("mnist")!;
        for (var i = 0; i < Math.Max(canaryRequests, stableRequests); i++)
        {
            foreach (var (target, count) in new[] { ("canary", canaryRequests), ("stable", stableRequests) })
            {
                if (i >= count)
                {
                    continue;
                }

                var (status, by, prediction, text) = await GatewayClient.PredictAsync(gateway.Client, row, ("X-User", GatewayClient.StickyKeyFor(split, target)));
                Assert.True(status == 200, text);
                Assert.Equal(target, by);
                TfServingPredictTests.AssertClose(servers.WeightsOf(target).Evaluate(row), prediction!);
            }
        }

        await Eventually.TrueAsync(() => analyzer.Pending("mnist", "canary") == canaryRequests && analyzer.Pending("mnist", "stable") == stableRequests,
            "the window to hold every request");
        time.Advance(TimeSpan.FromSeconds(10));
    }

    private static void AssertWeights(GatewayHost gateway, int stable, int canary)
    {
        var split = gateway.Services.GetRequiredService<SplitRegistry>().Get("mnist")!;
        Assert.Equal((stable, canary), (split.Find("stable")!.Weight, split.Find("canary")!.Weight));
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

    private static async Task<HttpResponseMessage> PostResumeAsync(GatewayHost gateway, string model = "mnist")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/admin/splits/{model}/promotion/resume");
        request.Headers.Add("X-Api-Key", AdminKey);
        return await gateway.Client.SendAsync(request);
    }
}
