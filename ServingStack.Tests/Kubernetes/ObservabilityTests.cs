using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using ServingStack.AppHost.Kubernetes.Crds;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Kubernetes;

/// <summary>Alerts pass Prometheus' own checker, fire when they should, and every query names series that exist.</summary>
[Collection(KubernetesManifestsCollection.Name)]
public sealed partial class ObservabilityTests(PublishedManifests published)
{
    [GeneratedRegex(@"\b(?:servingstack|gateway)_[a-z_]+")]
    private static partial Regex SeriesName();

    private PrometheusRule Rule => Assert.Single(published.All<PrometheusRule>());

    [Fact]
    public async Task Alert_rules_pass_promtool_check_rules()
    {
        var folder = Directory.CreateTempSubdirectory("servingstack-rules-").FullName;
        try
        {
            var rules = Path.Combine(folder, "rules.yaml");
            // The PrometheusRule's spec is a Prometheus rule file as it stands.
            await File.WriteAllTextAsync(rules, KubernetesYaml.Serialize(Rule.Spec));
            // --lint-fatal: duplicate rules and the like fail too (promtool only prints them otherwise).
            var (exit, output) = await PromtoolAsync(folder, "check", "rules", "--lint-fatal", rules);
            Assert.True(exit == 0, $"promtool check rules failed ({exit}):\n{output}");
            Assert.Contains($"SUCCESS: {Rule.Spec.Groups.Sum(g => g.Rules.Count)} rules found", output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Model_load_failure_and_queue_saturation_alerts_fire_in_promtool_unit_tests()
    {
        var folder = Directory.CreateTempSubdirectory("servingstack-rules-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "rules.yaml"), KubernetesYaml.Serialize(Rule.Spec));
            var loadFailed = Rule.Spec.Groups.SelectMany(g => g.Rules).Single(r => r.Alert == "ServingStackModelLoadFailed");
            var queueSaturated = Rule.Spec.Groups.SelectMany(g => g.Rules).Single(r => r.Alert == "ServingStackQueueSaturated");
            // Queue capacity of the graph's batching: 100 batches x 32 rows; the alert is at 80%.
            var tests = $$"""
                rule_files: [rules.yaml]
                evaluation_interval: 1m
                tests:
                  - interval: 1m
                    input_series:
                      - series: 'servingstack_model_load_duration_seconds_count{namespace="servingstack", service="inference", pod="inference-0", model="mnist", version="2", outcome="failure"}'
                        values: '0 1 1 1 1'
                      - series: 'servingstack_model_load_duration_seconds_count{namespace="servingstack", service="inference", pod="inference-0", model="mnist", version="1", outcome="success"}'
                        values: '0 1 1 1 1'
                      - series: 'servingstack_queue_depth{namespace="servingstack", service="inference", pod="inference-0", model="mnist", version="1"}'
                        values: '2600x10'
                      - series: 'servingstack_queue_depth{namespace="servingstack", service="inference", pod="inference-1", model="mnist", version="1"}'
                        values: '2500x10'
                    alert_rule_test:
                      - eval_time: 3m
                        alertname: ServingStackModelLoadFailed
                        exp_alerts:
                          - exp_labels: { severity: critical, service: inference, pod: inference-0, model: mnist, version: "2" }
                            exp_annotations:
                              summary: 'mnist version 2 failed to load on inference-0'
                              description: '{{loadFailed.Annotations!["description"]}}'
                      - eval_time: 1m
                        alertname: ServingStackQueueSaturated
                        exp_alerts: []
                      - eval_time: 5m
                        alertname: ServingStackQueueSaturated
                        exp_alerts:
                          - exp_labels: { severity: warning, service: inference, pod: inference-0, model: mnist, version: "1" }
                            exp_annotations:
                              summary: 'The batch queue of mnist on inference-0 is 81.25% full'
                              description: '{{queueSaturated.Annotations!["description"]}}'
                """;
            await File.WriteAllTextAsync(Path.Combine(folder, "tests.yaml"), tests);
            var (exit, output) = await PromtoolAsync(folder, "test", "rules", "tests.yaml");
            Assert.True(exit == 0, $"promtool test rules failed ({exit}):\n{output}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Alert_and_dashboard_queries_name_series_the_server_exports()
    {
        var queries = Rule.Spec.Groups.SelectMany(g => g.Rules).Select(r => r.Expr)
            .Concat(Dashboard().Descendants().Where(n => n.Key == "expr").Select(n => n.Value))
            .ToList();
        var names = queries.SelectMany(q => SeriesName().Matches(q).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("servingstack_request_duration_seconds_bucket", names);

        // The server's series, after traffic through a batched model, as Prometheus scrapes them.
        using var repo = new TempModelRepository();
        var model = "k8s_" + Guid.NewGuid().ToString("N")[..8];
        repo.AddMlp(model, 1, seed: 1);
        var config = repo.WriteConfig("models.json", $$"""{ "model_config_list": [ { "name": "{{model}}", "base_path": "{{model}}", "batching": { "max_batch_size": 4 } } ] }""");
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var row = new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(1)) };
        Assert.Equal(200, (await Json.PostAsync(server.Client, $"/v1/models/{model}:predict", row)).Status);
        var scraped = "";
        await Eventually.TrueAsync(async () =>
        {
            scraped = await server.Client.GetStringAsync("/metrics");
            return scraped.Contains("servingstack_requests_total{", StringComparison.Ordinal);
        }, "the request to be counted");
        var exported = SeriesName().Matches(scraped).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);

        // The sync's series come from another process; its README table is what the sync's own tests hold it to.
        var readme = await File.ReadAllTextAsync(Path.Combine(BuiltProject.RepositoryRoot(), "README.md"));
        foreach (var name in names)
        {
            if (name.StartsWith("servingstack_modelsync_", StringComparison.Ordinal))
            {
                Assert.Contains($"`{name}`", readme);
            }
            else
            {
                Assert.True(exported.Contains(name), $"{name} is queried but the server does not export it.");
            }
        }
    }

    [Fact]
    public void Dashboard_has_the_latency_qps_error_batch_and_model_state_panels()
    {
        var configMap = published.Single<V1ConfigMap>("servingstack-dashboard");
        Assert.Equal("1", configMap.Metadata.Labels["grafana_dashboard"]);
        var dashboard = Dashboard();
        var panels = dashboard["panels"]!.AsArray().Select(p => p!).ToList();
        string[] Exprs(string title) => [.. Assert.Single(panels, p => p["title"]!.GetValue<string>().StartsWith(title, StringComparison.Ordinal))["targets"]!
            .AsArray().Select(t => t!["expr"]!.GetValue<string>())];

        Assert.Equal(["0.5", "0.9", "0.99"], Exprs("Latency P50 / P90 / P99").Select(e => Regex.Match(e, @"histogram_quantile\(([0-9.]+)").Groups[1].Value));
        Assert.Contains("servingstack_requests_total", Assert.Single(Exprs("Requests per second")));
        Assert.Contains("status!=\"OK\"", Assert.Single(Exprs("Errors per second")));
        Assert.All(Exprs("Batch size"), e => Assert.Contains("servingstack_batch_size", e));
        Assert.Contains("servingstack_model_state", Assert.Single(Exprs("Model state")));
        Assert.Equal(panels.Count, panels.Select(p => p["id"]!.GetValue<int>()).Distinct().Count());
    }

    private JsonObject Dashboard() =>
        JsonNode.Parse(published.Single<V1ConfigMap>("servingstack-dashboard").Data["servingstack.json"])!.AsObject();

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(string workingDirectory, params string[] args)
    {
        var start = new ProcessStartInfo(await PromTool.LocateAsync()) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
