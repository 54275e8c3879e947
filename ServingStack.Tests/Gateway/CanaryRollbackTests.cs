using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ServingStack.Gateway.Splits;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Gateway;

/// <summary>A canary whose cluster refuses connections is rolled back to weight 0 while stable keeps answering.</summary>
[Collection(GatewayCollection.Name)]
public sealed class CanaryRollbackTests(GatewayServersFixture servers)
{
    private const string AdminKey = "test-admin-key-0123456789";

    [Fact]
    public async Task A_failing_canary_loses_its_weight_after_consecutive_bad_windows_and_stable_sees_no_errors()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2025-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var settings = servers.Settings(50, 50, canaryCluster: GatewayHost.ClosedPortAddress());
        settings["Gateway:AdminApiKey"] = AdminKey;
        settings["Gateway:CanaryAnalysis:WindowSeconds"] = "10";
        settings["Gateway:CanaryAnalysis:MinRequests"] = "5";
        settings["Gateway:CanaryAnalysis:ConsecutiveWindows"] = "2";
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(time));
        var analyzer = gateway.Services.GetRequiredService<CanaryAnalyzer>();
        var registry = gateway.Services.GetRequiredService<SplitRegistry>();
        var row = GatewayClient.Rows(1, seed: 12)[0];

        for (var window = 0; window < 2; window++)
        {
            Assert.Equal(50, registry.Get("mnist")!.Find("canary")!.Weight);
            var stable = 0;
            var canary = 0;
            for (var i = 0; i < 40; i++)
            {
                var (status, by, prediction, text) = await GatewayClient.PredictAsync(gateway.Client, row);
                if (by == "stable")
                {
                    Assert.True(status == 200, text);
                    TfServingPredictTests.AssertClose(servers.StableWeights.Evaluate(row), prediction!);
                    stable++;
                }
                else
                {
                    Assert.True(by == "canary" && status == 502, $"{status} {by}: {text}");
                    canary++;
                }
            }

            Assert.InRange(canary, 5, 40);
            await Eventually.TrueAsync(() => analyzer.Pending("mnist", "canary") == canary && analyzer.Pending("mnist", "stable") == stable,
                "the window to hold every request");
            time.Advance(TimeSpan.FromSeconds(10));
        }

        var split = registry.Get("mnist")!;
        Assert.Equal(0, split.Find("canary")!.Weight);
        Assert.Equal(50, split.Find("stable")!.Weight);
        Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 3002);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/splits/mnist");
        request.Headers.Add("X-Api-Key", AdminKey);
        var view = JsonNode.Parse(await (await gateway.Client.SendAsync(request)).Content.ReadAsStringAsync())!;
        Assert.Equal("canary-analysis", view["source"]!.GetValue<string>());
        Assert.Contains("error rate", view["targets"]![1]!["rollbackReason"]!.GetValue<string>(), StringComparison.Ordinal);

        for (var i = 0; i < 30; i++)
        {
            var (status, by, _, text) = await GatewayClient.PredictAsync(gateway.Client, row);
            Assert.True(status == 200, text);
            Assert.Equal("stable", by);
        }
    }

    [Fact]
    public async Task A_healthy_canary_keeps_its_weight()
    {
        var time = new FakeTimeProvider();
        var settings = servers.Settings(50, 50);
        settings["Gateway:CanaryAnalysis:MinRequests"] = "5";
        settings["Gateway:CanaryAnalysis:ConsecutiveWindows"] = "1";
        // Latency is not judged here: both targets share one server, and a tiny window's p99 is noisy.
        settings["Gateway:CanaryAnalysis:LatencyFactor"] = "1000";
        await using var gateway = await GatewayHost.StartAsync(settings, services => services.AddSingleton<TimeProvider>(time));
        var analyzer = gateway.Services.GetRequiredService<CanaryAnalyzer>();
        var split = gateway.Services.GetRequiredService<SplitRegistry>().Get("mnist")!;
        var row = GatewayClient.Rows(1, seed: 13)[0];
        // Sticky keys that the split maps to each target: requests it routes itself, as analysis counts them.
        var canaryKey = GatewayClient.StickyKeyFor(split, "canary");
        var stableKey = GatewayClient.StickyKeyFor(split, "stable");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("canary", (await GatewayClient.PredictAsync(gateway.Client, row, ("X-User", canaryKey))).ServedBy);
            Assert.Equal("stable", (await GatewayClient.PredictAsync(gateway.Client, row, ("X-User", stableKey))).ServedBy);
        }

        await Eventually.TrueAsync(() => analyzer.Pending("mnist", "canary") == 20 && analyzer.Pending("mnist", "stable") == 20, "the window to hold every request");
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(50, gateway.Services.GetRequiredService<SplitRegistry>().Get("mnist")!.Find("canary")!.Weight);
    }
}
