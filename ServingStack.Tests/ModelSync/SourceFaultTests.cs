using Amazon.Runtime;
using Amazon.S3;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ServingStack.ModelSync.Hosting;
using ServingStack.ModelSync.Sources;
using ServingStack.ModelSync.Sync;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>
/// The source stalled, killed and answering garbage, against the real sync: after every pass each published version
/// holds exactly the source's files (sizes and SHA-256), and <c>--once</c> exits with its documented code. Timeouts
/// and retry backoff run on fake time in process; the processes use a short no-progress timeout.
/// </summary>
[Collection(InProcessSidecars.Name)]
public sealed class SourceFaultTests : IClassFixture<S3Server>, IAsyncLifetime
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    private readonly S3Server _s3;
    private readonly TempModelRepository _source = new();
    private readonly TempModelRepository _target = new();
    private HttpModelServer _http = null!;

    public SourceFaultTests(S3Server s3) => _s3 = s3;

    public async Task InitializeAsync() => _http = await HttpModelServer.StartAsync(_source.Root);

    public async Task DisposeAsync()
    {
        await _http.DisposeAsync();
        _source.Dispose();
        _target.Dispose();
    }

    private Dictionary<string, byte[]> SourceFiles => SyncHarness.FilesUnder(_source.Root);

    /// <summary>The app with a 30 s no-progress timeout on a fake clock; the caller moves the clock with <see cref="SyncHarness.OnFakeTimeAsync"/>.</summary>
    private WebApplication App(string source, FakeTimeProvider time, CapturedLog log, IModelSource? replacement = null) =>
        SyncHarness.Build([$"--source={source}", $"--target={_target.Root}", "--ModelSync:NoProgressTimeout=30s"], log, replacement, time);

    [Fact]
    public async Task A_stalled_http_download_is_retried_with_backoff_then_fails_its_version_alone()
    {
        SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        SyncHarness.Write(_source.Root, "mnist", 2, SyncHarness.Mlp(2));
        _http.StallAfter = path => path == "mnist/2/model.onnx" ? 100_000 : null;
        var time = new FakeTimeProvider();
        var log = new CapturedLog();
        await using var app = App(_http.IndexUri.ToString(), time, log);
        var syncer = app.Services.GetRequiredService<ModelSyncer>();

        var report = await StallThriceAsync(syncer.SyncAsync(CancellationToken.None), time, "mnist/2/model.onnx");

        var problem = Assert.Single(report.Problems);
        Assert.Equal((SyncProblemKind.SourceError, "mnist/2/model.onnx"), (problem.Kind, problem.Subject));
        Assert.Contains($"no progress for 30 s (ModelSync:NoProgressTimeout) after 100000 of {SyncHarness.Mlp(2).Length} bytes", problem.Message, StringComparison.Ordinal);
        Assert.Contains("3 attempts", problem.Message, StringComparison.Ordinal);
        Assert.Equal(3, _http.Requests["mnist/2/model.onnx"]);
        Assert.Equal(3, _http.Stalls);
        var retries = log.Entries.Where(e => e.EventId.Name == "DownloadRetrying").Select(e => e.Message).ToList();
        Assert.Equal(2, retries.Count);
        Assert.Contains("retrying in 1 s (attempt 2 of 3)", retries[0], StringComparison.Ordinal);
        Assert.Contains("retrying in 2 s (attempt 3 of 3)", retries[1], StringComparison.Ordinal);
        Assert.Equal(["mnist/1"], report.Published);
        Assert.Equal(["mnist/1"], SyncHarness.AssertNoPartialVersion(_target.Root, SourceFiles));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));

        // The source recovers: the next pass completes the repository.
        _http.StallAfter = null;
        report = await syncer.SyncAsync(CancellationToken.None);
        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.Equal(["mnist/1", "mnist/2"], SyncHarness.AssertNoPartialVersion(_target.Root, SourceFiles));
    }

    /// <summary>
    /// Moves the fake clock only where the pass waits on it: past the 30 s no-progress timeout once the server has
    /// stalled the body, then through the retry backoff until the next request arrives (the wait may begin just after a
    /// move), three times; the pass then ends on its own.
    /// </summary>
    private async Task<SyncReport> StallThriceAsync(Task<SyncReport> pass, FakeTimeProvider time, string path)
    {
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var stalls = attempt;
            await Eventually.TrueAsync(() => _http.Stalls >= stalls || pass.IsCompleted, $"stall {stalls}");
            time.Advance(TimeSpan.FromSeconds(30));
            if (attempt < 3)
            {
                await Eventually.TrueAsync(() =>
                {
                    time.Advance(TimeSpan.FromMilliseconds(250));
                    return _http.Requests.GetValueOrDefault(path) > stalls || pass.IsCompleted;
                }, $"request {stalls + 1} after the backoff");
            }
        }

        return await pass.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Once_with_a_source_that_stops_sending_exits_1_after_the_no_progress_timeout()
    {
        SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        SyncHarness.Write(_source.Root, "mnist", 2, SyncHarness.Mlp(2));
        _http.StallAfter = path => path == "mnist/2/model.onnx" ? 100_000 : null;
        using (var warm = new HttpClient())
        {
            // The fixture's first answer can take longer than the short timeout on a loaded machine; not what is tested.
            await warm.GetStringAsync(_http.IndexUri);
        }

        await using var sync = await ModelSyncProcess.RunAsync(new Dictionary<string, string> { ["ModelSync__NoProgressTimeout"] = "2s" },
            TimeSpan.FromSeconds(60), "--source", _http.IndexUri.ToString(), "--target", _target.Root, "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.True(sync.StdErr.Contains("source_error: mnist/2/model.onnx: no progress for 2 s (ModelSync:NoProgressTimeout)", StringComparison.Ordinal), sync.ToString());
        Assert.True(_http.Stalls == 3, $"{_http.Stalls} stalls\n{sync}");
        Assert.Equal(["mnist/1"], SyncHarness.AssertNoPartialVersion(_target.Root, SourceFiles));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }
}
