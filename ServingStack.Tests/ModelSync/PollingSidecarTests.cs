using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>The sidecar in its polling mode: a web app with health, readiness and Prometheus metrics.</summary>
[Collection(InProcessSidecars.Name)]
public sealed partial class PollingSidecarTests : IAsyncLifetime
{
    private readonly TempModelRepository _source = new();
    private readonly TempModelRepository _target = new();
    private readonly CapturedLog _log = new();

    // Other tests' sidecars run in this process and their meters share our meter's name: series are told apart by model.
    private readonly string _model = "polled_" + Guid.NewGuid().ToString("N")[..8];
    private HttpModelServer _http = null!;
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _http = await HttpModelServer.StartAsync(_source.Root);
        SyncHarness.Write(_source.Root, _model, 1, SyncHarness.Mlp(1));
        _app = SyncHarness.Build([$"--source={_http.IndexUri}", $"--target={_target.Root}", "--interval=200ms", "--urls=http://127.0.0.1:0"], _log);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _http.DisposeAsync();
        _source.Dispose();
        _target.Dispose();
    }

    [GeneratedRegex("^(?<name>servingstack_modelsync_[a-z_]+)(\\{(?<labels>[^}]*)\\})? (?<value>\\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();

    /// <summary>The value of the one series named so whose labels contain <paramref name="labels"/>; NaN when there is none.</summary>
    private async Task<double> MetricAsync(string name, string labels = "") =>
        (await SamplesAsync(name, labels)).DefaultIfEmpty(double.NaN).Single();

    private async Task<List<double>> SamplesAsync(string name, string labels = "")
    {
        var text = await _client.GetStringAsync("/metrics");
        return Sample().Matches(text)
            .Where(m => m.Groups["name"].Value == name && m.Groups["labels"].Value.Contains(labels, StringComparison.Ordinal))
            .Select(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture))
            .ToList();
    }

    [Fact]
    public async Task It_polls_new_versions_in_reports_readiness_and_exports_metrics()
    {
        await Eventually.TrueAsync(() => SyncHarness.Versions(_target.Root, _model).SequenceEqual([1L]), "version 1 to be published");
        await Eventually.TrueAsync(async () => (await _client.GetAsync("/ready")).IsSuccessStatusCode, "readiness");
        Assert.Equal("Healthy", await _client.GetStringAsync("/ready"));
        Assert.True((await _client.GetAsync("/alive")).IsSuccessStatusCode);

        // A new version in the source shows up at the next poll.
        var v2 = SyncHarness.Write(_source.Root, _model, 2, SyncHarness.Mlp(2));
        await Eventually.TrueAsync(() => SyncHarness.Versions(_target.Root, _model).SequenceEqual([1L, 2L]), "version 2 to be published");
        SyncHarness.AssertPublished(_target.Root, _model, 2, v2);

        await Eventually.TrueAsync(async () => await MetricAsync("servingstack_modelsync_versions_published_total", $"model=\"{_model}\"") == 2, "the published counter");
        Assert.Equal(SyncHarness.Mlp(1).Length + v2.Length, await MetricAsync("servingstack_modelsync_downloaded_bytes_total", $"model=\"{_model}\""));
        // Unlabelled series may also carry other in-process sidecars' values: ours must be among them.
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var lastSuccess = await SamplesAsync("servingstack_modelsync_last_success_seconds");
        Assert.Contains(lastSuccess, t => t > now - 60 && t <= now + 1);
        Assert.True((await SamplesAsync("servingstack_modelsync_syncs_total", "outcome=\"success\"")).Sum() >= 2);
        Assert.True((await SamplesAsync("servingstack_modelsync_sync_duration_seconds_count", "outcome=\"success\"")).Sum() >= 2);

        var (exitCode, output) = await PromTool.CheckMetricsAsync(await _client.GetStringAsync("/metrics"));
        Assert.True(exitCode is 0 or 3, $"promtool check metrics failed ({exitCode}): {output}");
        Assert.DoesNotContain("servingstack_", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failures_are_counted_by_reason_and_readiness_degrades_after_an_earlier_success()
    {
        await Eventually.TrueAsync(async () => (await _client.GetAsync("/ready")).IsSuccessStatusCode, "a first successful pass");

        // The index now lies about a new version: it must never appear, and each pass counts a checksum mismatch.
        // (The lie is in place before the file appears, so no pass can see the version with its true digest.)
        _http.Sha256Overrides[$"{_model}/2/model.onnx"] = new string('0', 64);
        SyncHarness.Write(_source.Root, _model, 2, SyncHarness.Mlp(2));
        await Eventually.TrueAsync(async () => (await SamplesAsync("servingstack_modelsync_failures_total", "reason=\"checksum_mismatch\"")).Sum() >= 2, "two counted checksum mismatches");
        Assert.Equal([1L], SyncHarness.Versions(_target.Root, _model));

        // Version 1 still serves: the sidecar stays ready (200) but says it is degraded, and why.
        using var ready = await _client.GetAsync("/ready");
        Assert.True(ready.IsSuccessStatusCode);
        Assert.Equal("Degraded", await ready.Content.ReadAsStringAsync());
        Assert.Contains(_log.Entries, e => e.EventId.Name == "SyncIncomplete" && e.Message.Contains($"{_model}/2/model.onnx", StringComparison.Ordinal));

        // Fixed at the source: the next pass publishes it and readiness is healthy again.
        _http.Sha256Overrides.Clear();
        await Eventually.TrueAsync(() => SyncHarness.Versions(_target.Root, _model).SequenceEqual([1L, 2L]), "version 2 once the index is right");
        await Eventually.TrueAsync(async () => await _client.GetStringAsync("/ready") == "Healthy", "healthy again");
    }
}
