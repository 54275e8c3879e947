using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ServingStack.Gateway.Routing;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>Health-check defaults and the connect retry, with two real replicas of one model behind one cluster.</summary>
public sealed class ResilienceTests
{
    private const int Seed = 5;
    private const int Clients = 8;
    private const int RequestsAfterKill = 400;
    private const int MaxRequestsPerClient = 20_000;

    [Fact]
    public async Task Killing_one_of_two_replicas_under_load_fails_at_most_1_percent_and_the_survivor_serves_everything_after()
    {
        using var repoA = new TempModelRepository();
        using var repoB = new TempModelRepository();
        var configA = Replica(repoA);
        var configB = Replica(repoB);
        var startA = InferenceServer.StartReadyAsync($"--model_config_file={configA}");
        var startB = InferenceServer.StartReadyAsync($"--model_config_file={configB}");
        await using var a = await startA;
        var b = await startB;
        var bStopped = false;
        try
        {
            await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
            {
                ["ReverseProxy:Routes:v1:ClusterId"] = "replicas",
                ["ReverseProxy:Routes:v1:Match:Path"] = "/v1/{**rest}",
                ["ReverseProxy:Clusters:replicas:Destinations:a:Address"] = a.Address.ToString(),
                ["ReverseProxy:Clusters:replicas:Destinations:b:Address"] = b.Address.ToString(),
                ["Gateway:Resilience:ActiveInterval"] = "00:00:01",
                ["Gateway:Resilience:ActiveTimeout"] = "00:00:01",
            });

            var weights = MlpWeights.Create(Seed);
            var rows = GatewayClient.Rows(16, seed: 11);
            var results = new ConcurrentQueue<Result>();
            var phase = (int)Phase.BothUp;
            using var stop = new CancellationTokenSource();
            var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
            {
                for (var i = 0; i < MaxRequestsPerClient && !stop.IsCancellationRequested; i++)
                {
                    var started = (Phase)Volatile.Read(ref phase);
                    var row = rows[(c + i) % rows.Length];
                    var (status, destination, prediction, text) = await PredictAsync(gateway.Client, row);
                    var correct = prediction is not null && weights.Evaluate(row).Zip(prediction).All(p => Math.Abs(p.First - p.Second) <= 1e-5);
                    results.Enqueue(new Result(started, status, destination, correct, text));
                }
            })).ToArray();

            await WaitAsync(() => results.Count(r => r.Destination == "a") >= 100 && results.Count(r => r.Destination == "b") >= 100,
                "both replicas to serve under load", results);
            Volatile.Write(ref phase, (int)Phase.Stopping);
            await b.DisposeAsync();
            bStopped = true;
            Volatile.Write(ref phase, (int)Phase.SurvivorOnly);
            await WaitAsync(() => results.Count(r => r.Phase == Phase.SurvivorOnly) >= RequestsAfterKill,
                $"{RequestsAfterKill} requests after the replica stopped", results);
            await stop.CancelAsync();
            await Task.WhenAll(clients);

            var all = results.ToArray();
            var failed = all.Where(r => r.Status != 200).ToArray();
            Assert.True(failed.Length <= all.Length / 100,
                $"{failed.Length} of {all.Length} failed: {string.Join(" | ", failed.Take(5).Select(r => $"{r.Status} {r.Text}"))}");
            Assert.All(all.Where(r => r.Status == 200), r => Assert.True(r.Correct, $"wrong prediction from {r.Destination}"));
            var after = all.Where(r => r.Phase == Phase.SurvivorOnly && r.Status == 200).ToArray();
            Assert.True(after.Length >= RequestsAfterKill - failed.Length);
            Assert.All(after, r => Assert.Equal("a", r.Destination));

            // The stopped replica's refused connects were re-sent to the survivor, and logged as such.
            Assert.Contains(gateway.Log.Entries, e => e.EventId.Id == 1101 && e.Message.Contains("destination b", StringComparison.Ordinal));
        }
        finally
        {
            if (!bStopped)
            {
                await b.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Clusters_without_their_own_health_check_get_active_ready_probes_and_passive_ejection()
    {
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:v1:ClusterId"] = "plain",
            ["ReverseProxy:Routes:v1:Match:Path"] = "/v1/{**rest}",
            ["ReverseProxy:Clusters:plain:Destinations:a:Address"] = GatewayHost.ClosedPortAddress(),
            ["ReverseProxy:Clusters:own:Destinations:a:Address"] = GatewayHost.ClosedPortAddress(),
            ["ReverseProxy:Clusters:own:HealthCheck:Active:Enabled"] = "false",
        });
        var state = (Yarp.ReverseProxy.IProxyStateLookup)gateway.Services.GetService(typeof(Yarp.ReverseProxy.IProxyStateLookup))!;

        Assert.True(state.TryGetCluster("plain", out var plain));
        var health = plain.Model.Config.HealthCheck!;
        Assert.True(health.Active!.Enabled);
        Assert.Equal("/ready", health.Active.Path);
        Assert.Equal("ConsecutiveFailures", health.Active.Policy);
        Assert.True(health.Passive!.Enabled);
        Assert.Equal(ConsecutiveFailuresPassivePolicy.PolicyName, health.Passive.Policy);
        Assert.NotNull(health.Passive.ReactivationPeriod);

        Assert.True(state.TryGetCluster("own", out var own));
        Assert.False(own.Model.Config.HealthCheck!.Active!.Enabled);
        Assert.True(own.Model.Config.HealthCheck.Passive!.Enabled);

        // The probe of a closed port marks the destination unhealthy.
        await Eventually.TrueAsync(() => plain.Destinations.Values.Single().Health.Active == Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy,
            "the active probe to mark the closed destination unhealthy", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_dead_destination_of_a_split_targets_cluster_is_ejected_after_consecutive_failures_and_client_aborts_eject_nothing()
    {
        using var repository = new TempModelRepository();
        var config = Replica(repository);
        await using var live = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        // The route's own cluster is another one: the split reassigns every mnist request to "pair".
        await using var gateway = await GatewayHost.StartAsync(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:v1:ClusterId"] = "entry",
            ["ReverseProxy:Routes:v1:Match:Path"] = "/v1/{**rest}",
            ["ReverseProxy:Clusters:entry:Destinations:x:Address"] = live.Address.ToString(),
            ["ReverseProxy:Clusters:pair:Destinations:dead:Address"] = GatewayHost.ClosedPortAddress(),
            ["ReverseProxy:Clusters:pair:Destinations:live:Address"] = live.Address.ToString(),
            // No probes: only what requests see may eject.
            ["ReverseProxy:Clusters:pair:HealthCheck:Active:Enabled"] = "false",
            ["Gateway:Splits:mnist:Targets:0:Name"] = "only",
            ["Gateway:Splits:mnist:Targets:0:Cluster"] = "pair",
            ["Gateway:Splits:mnist:Targets:0:Weight"] = "1",
        });
        var state = (Yarp.ReverseProxy.IProxyStateLookup)gateway.Services.GetService(typeof(Yarp.ReverseProxy.IProxyStateLookup))!;
        Assert.True(state.TryGetCluster("pair", out var pair));
        var dead = pair.Destinations.Values.Single(d => d.DestinationId.StartsWith("dead", StringComparison.Ordinal));
        var survivor = pair.Destinations.Values.Single(d => d.DestinationId.StartsWith("live", StringComparison.Ordinal));
        var weights = MlpWeights.Create(Seed);
        var row = GatewayClient.Rows(1, seed: 41)[0];

        // Every request is answered (a refused connect is re-sent to the live one) until the dead one is out.
        var sent = 0;
        await Eventually.TrueAsync(async () =>
        {
            var (status, _, prediction, text) = await PredictAsync(gateway.Client, row);
            Assert.True(status == 200, text);
            Assert.True(weights.Evaluate(row).Zip(prediction!).All(p => Math.Abs(p.First - p.Second) <= 1e-5));
            sent++;
            return dead.Health.Passive == Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy;
        }, "the dead destination to be ejected");
        Assert.InRange(gateway.Log.Entries.Count(e => e.EventId.Id == 1101), 3, sent);
        await Eventually.TrueAsync(() => pair.DestinationsState.AvailableDestinations.Count == 1, "the split target's cluster to drop the dead destination");
        Assert.Same(survivor, pair.DestinationsState.AvailableDestinations.Single());

        // A client that breaks off its uploads, again and again, is no evidence against the destination.
        for (var i = 0; i < 15; i++)
        {
            await CanaryAnalysisTrustTests.AbortedUploadAsync(gateway.Address, ("X-Ignored", "1"));
        }

        Assert.NotEqual(Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy, survivor.Health.Passive);
        Assert.Equal(200, (await PredictAsync(gateway.Client, row)).Status);
        Assert.Equal(Yarp.ReverseProxy.Model.DestinationHealth.Unhealthy, dead.Health.Passive);
    }

    private static async Task WaitAsync(Func<bool> condition, string what, ConcurrentQueue<Result> results)
    {
        try
        {
            await Eventually.TrueAsync(condition, what, TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException e)
        {
            var summary = results.GroupBy(r => (r.Phase, r.Status, r.Destination)).Select(g => $"{g.Key}: {g.Count()} (e.g. {g.First().Text[..Math.Min(200, g.First().Text.Length)]})");
            throw new TimeoutException($"{e.Message}; results: {string.Join(" | ", summary)}", e);
        }
    }

    private static string Replica(TempModelRepository repository)
    {
        repository.AddMlp("mnist", 1, Seed);
        return repository.WriteConfig("models.config", "model_config_list { config { name: 'mnist' base_path: 'mnist' } }");
    }

    private static async Task<(int Status, string? Destination, float[]? Prediction, string Text)> PredictAsync(HttpClient client, float[] row)
    {
        var body = new JsonObject { ["instances"] = Json.Matrix([row]) }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/mnist:predict")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        // Service discovery names resolved destinations "{configured name}[{address}]".
        var destination = response.Headers.TryGetValues(ConnectRetryMiddleware.DestinationHeader, out var values) ? values.Single().Split('[')[0] : null;
        var prediction = response.IsSuccessStatusCode ? Json.Floats(JsonNode.Parse(text)!["predictions"]![0]) : null;
        return ((int)response.StatusCode, destination, prediction, text);
    }

    private enum Phase
    {
        BothUp,
        Stopping,
        SurvivorOnly,
    }

    private sealed record Result(Phase Phase, int Status, string? Destination, bool Correct, string Text);
}
