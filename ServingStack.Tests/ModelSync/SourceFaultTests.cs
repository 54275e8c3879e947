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
    private static readonly TimeSpan NoProgressTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

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

        var report = await ThroughStallsAsync(syncer.SyncAsync(CancellationToken.None), time, () => _http.Stalls, 3);

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
    /// Moves the fake clock only where the pass waits on it: in small steps while waiting for each of
    /// <paramref name="count"/> stalls (so through any retry backoff, which may begin just after a move), then past the
    /// no-progress timeout once the source has stalled; after the last, the pass ends on its own.
    /// </summary>
    private static async Task<SyncReport> ThroughStallsAsync(Task<SyncReport> pass, FakeTimeProvider time, Func<int> stalls, int count)
    {
        for (var stall = 1; stall <= count; stall++)
        {
            var expected = stall;
            await Eventually.TrueAsync(() =>
            {
                if (stalls() >= expected || pass.IsCompleted)
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(100));
                return false;
            }, $"stall {expected}");
            time.Advance(NoProgressTimeout);
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

    [Fact]
    public async Task An_http_source_killed_mid_download_publishes_nothing_partial_and_the_next_pass_completes()
    {
        SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        SyncHarness.Write(_source.Root, "mnist", 2, SyncHarness.Mlp(2));
        _http.StallAfter = path => path == "mnist/2/model.onnx" ? 100_000 : null;
        var port = _http.Address.Port;
        var time = new FakeTimeProvider();
        await using var app = App(_http.IndexUri.ToString(), time, new CapturedLog());
        var syncer = app.Services.GetRequiredService<ModelSyncer>();

        // The source dies mid-body: that connection is reset, and nothing listens any more.
        var pass = syncer.SyncAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => _http.Stalls == 1, "the download to be under way");
        await _http.DisposeAsync();
        var report = await SyncHarness.OnFakeTimeAsync(pass, time, Step);

        Assert.Equal(["mnist/1/model.onnx", "mnist/2/model.onnx"], report.Problems.Select(p => p.Subject).Order(StringComparer.Ordinal));
        Assert.All(report.Problems, p =>
        {
            Assert.Equal(SyncProblemKind.SourceError, p.Kind);
            Assert.EndsWith("(gave up after 3 attempts)", p.Message, StringComparison.Ordinal);
        });
        Assert.Empty(SyncHarness.AssertNoPartialVersion(_target.Root, SourceFiles));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));

        // It comes back where it was: the next pass completes the repository.
        _http = await HttpModelServer.StartAsync(_source.Root, port);
        report = await syncer.SyncAsync(CancellationToken.None);
        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.Equal(["mnist/1", "mnist/2"], SyncHarness.AssertNoPartialVersion(_target.Root, SourceFiles));
    }

    [Fact]
    public async Task A_stalled_s3_download_times_out_on_every_try_and_publishes_nothing_partial()
    {
        var (bucket, objects) = await BucketAsync();
        await using var proxy = FaultProxy.Start(_s3.Endpoint);
        proxy.StallResponsesAfterBytes = 64 * 1024; // past the listing, inside each object
        using var source = SyncHarness.S3Source(bucket, proxy.Endpoint);
        var time = new FakeTimeProvider();
        await using var app = App($"s3://{bucket}", time, new CapturedLog(), source);
        var syncer = app.Services.GetRequiredService<ModelSyncer>();

        var report = await ThroughStallsAsync(syncer.SyncAsync(CancellationToken.None), time, () => proxy.Stalls, 6);

        Assert.Equal(["mnist/1/model.onnx", "mnist/2/model.onnx"], report.Problems.Select(p => p.Subject).Order(StringComparer.Ordinal));
        Assert.All(report.Problems, p =>
        {
            Assert.Equal(SyncProblemKind.SourceError, p.Kind);
            Assert.StartsWith("no progress for 30 s (ModelSync:NoProgressTimeout) after ", p.Message, StringComparison.Ordinal);
            Assert.EndsWith("(gave up after 3 attempts)", p.Message, StringComparison.Ordinal);
        });
        Assert.Equal(6, proxy.Stalls);
        Assert.Empty(SyncHarness.AssertNoPartialVersion(_target.Root, objects));

        proxy.StallResponsesAfterBytes = null;
        report = await syncer.SyncAsync(CancellationToken.None);
        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.Equal(["mnist/1", "mnist/2"], SyncHarness.AssertNoPartialVersion(_target.Root, objects));
    }

    [Fact]
    public async Task An_s3_store_killed_mid_download_publishes_nothing_partial_and_the_next_pass_completes()
    {
        var (bucket, objects) = await BucketAsync();
        await using var proxy = FaultProxy.Start(_s3.Endpoint);
        proxy.StallResponsesAfterBytes = 64 * 1024;
        using var source = SyncHarness.S3Source(bucket, proxy.Endpoint);
        var time = new FakeTimeProvider();
        await using var app = App($"s3://{bucket}", time, new CapturedLog(), source);
        var syncer = app.Services.GetRequiredService<ModelSyncer>();

        var pass = syncer.SyncAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => proxy.Stalls == 1, "the download to be under way");
        proxy.Kill();
        var report = await SyncHarness.OnFakeTimeAsync(pass, time, Step);

        Assert.Equal(["mnist/1/model.onnx", "mnist/2/model.onnx"], report.Problems.Select(p => p.Subject).Order(StringComparer.Ordinal));
        Assert.All(report.Problems, p =>
        {
            Assert.Equal(SyncProblemKind.SourceError, p.Kind);
            Assert.EndsWith("(gave up after 3 attempts)", p.Message, StringComparison.Ordinal);
        });
        Assert.Empty(SyncHarness.AssertNoPartialVersion(_target.Root, objects));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));

        proxy.Revive();
        proxy.StallResponsesAfterBytes = null;
        report = await syncer.SyncAsync(CancellationToken.None);
        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.Equal(["mnist/1", "mnist/2"], SyncHarness.AssertNoPartialVersion(_target.Root, objects));
    }

    [Fact]
    public async Task Once_against_a_dead_s3_store_exits_1_listing_failed()
    {
        var (bucket, _) = await BucketAsync();
        await using var proxy = FaultProxy.Start(_s3.Endpoint);
        proxy.Kill();

        await using var sync = await ModelSyncProcess.RunAsync(SyncHarness.S3Environment(), SyncHarness.ProcessTimeout,
            "--source", $"s3://{bucket}", "--target", _target.Root, "--s3-endpoint", proxy.Endpoint.ToString(), "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.True(sync.StdErr.Contains($"listing_failed: s3://{bucket}/", StringComparison.Ordinal), sync.ToString());
        Assert.True(sync.StdErr.Contains("(gave up after 3 attempts)", StringComparison.Ordinal), sync.ToString());
        Assert.DoesNotContain("   at ", sync.StdErr, StringComparison.Ordinal);
        Assert.Empty(SyncHarness.Versions(_target.Root, "mnist"));
    }

    public static TheoryData<string, string, string> GarbageListings => new()
    {
        { "not XML", "this is not XML at all", "not a valid S3 listing" },
        { "truncated XML", "<ListBucketResult><Contents><Key>mnist/1/model.onnx</Key><Size>1", "not a valid S3 listing" },
        { "an HTML page", "<html><body><h1>502 Bad Gateway</h1><p>upstream gone</body></html>", "not a valid S3 listing" },
        { "an object without a key", Listing("<Contents><Size>5</Size></Contents>"), "an object without a key" },
        { "a continuation token that repeats", Listing("<Contents><Key>mnist/1/model.onnx</Key><Size>5</Size></Contents>", truncatedWith: "again"), "a continuation token seen before" },
    };

    [Theory]
    [MemberData(nameof(GarbageListings))]
    public async Task A_listing_that_is_garbage_fails_the_listing_and_publishes_nothing(string what, string body, string reason)
    {
        var (bucket, objects) = await BucketAsync();
        await using var proxy = FaultProxy.Start(_s3.Endpoint);
        proxy.Answer = head => head.Contains("list-type=2", StringComparison.Ordinal)
            ? FaultProxy.Response(200, "application/xml", System.Text.Encoding.UTF8.GetBytes(body))
            : null;
        using var source = SyncHarness.S3Source(bucket, proxy.Endpoint);

        // (A listing that loops would otherwise never end.)
        var (report, _) = await SyncHarness.SyncAsync([$"--source=s3://{bucket}", $"--target={_target.Root}"], source).WaitAsync(TimeSpan.FromSeconds(60));

        var problem = Assert.Single(report.Problems);
        Assert.True(problem.Kind == SyncProblemKind.ListingFailed, $"{what}: {problem}");
        Assert.True(problem.Message.Contains(reason, StringComparison.Ordinal), $"{what}: {problem}");
        Assert.Empty(SyncHarness.AssertNoPartialVersion(_target.Root, objects));
    }

    [Fact]
    public async Task A_listing_that_lies_about_sizes_fails_those_versions_alone()
    {
        var (bucket, objects) = await BucketAsync();
        var v1 = objects["mnist/1/model.onnx"];
        await using var proxy = FaultProxy.Start(_s3.Endpoint);
        proxy.Answer = head => head.Contains("list-type=2", StringComparison.Ordinal)
            ? FaultProxy.Response(200, "application/xml", System.Text.Encoding.UTF8.GetBytes(Listing(
                $"<Contents><Key>mnist/1/model.onnx</Key><Size>{v1.Length}</Size></Contents>" +
                "<Contents><Key>mnist/2/model.onnx</Key><Size>-5</Size></Contents>" +
                "<Contents><Key>mnist/3/model.onnx</Key></Contents>" +
                $"<Contents><Key>mnist/4/model.onnx</Key><Size>{long.MaxValue}</Size></Contents>")))
            : null;
        using var source = SyncHarness.S3Source(bucket, proxy.Endpoint);

        var (report, _) = await SyncHarness.SyncAsync([$"--source=s3://{bucket}", $"--target={_target.Root}"], source);

        Assert.Equal(["mnist/1"], report.Published);
        Assert.Equal(
            [(SyncProblemKind.UnsafePath, "mnist/2"), (SyncProblemKind.UnsafePath, "mnist/3"), (SyncProblemKind.PublishFailed, "mnist/4")],
            report.Problems.Select(p => (p.Kind, p.Subject)).Order());
        Assert.Contains(report.Problems, p => p.Subject == "mnist/4" && p.Message.Contains("free", StringComparison.Ordinal));
        Assert.Equal(["mnist/1"], SyncHarness.AssertNoPartialVersion(_target.Root, objects));
    }

    [Fact]
    public async Task Object_reads_that_answer_garbage_or_too_few_bytes_publish_nothing_partial()
    {
        var (bucket, objects) = await BucketAsync();
        await using var proxy = FaultProxy.Start(_s3.Endpoint);
        proxy.Answer = head =>
            head.StartsWith($"GET /{bucket}/mnist/1/", StringComparison.Ordinal) ? "\u0001\u0002 not HTTP at all\r\n\r\n"u8.ToArray()
            : head.StartsWith($"GET /{bucket}/mnist/2/", StringComparison.Ordinal) ? FaultProxy.Response(200, "application/octet-stream", "0123456789"u8.ToArray())
            : null;
        using var source = SyncHarness.S3Source(bucket, proxy.Endpoint);
        var time = new FakeTimeProvider();
        await using var app = App($"s3://{bucket}", time, new CapturedLog(), source);

        var report = await SyncHarness.OnFakeTimeAsync(app.Services.GetRequiredService<ModelSyncer>().SyncAsync(CancellationToken.None), time, Step);

        Assert.Equal(
            [(SyncProblemKind.SizeMismatch, "mnist/2/model.onnx"), (SyncProblemKind.SourceError, "mnist/1/model.onnx")],
            report.Problems.Select(p => (p.Kind, p.Subject)).Order());
        Assert.Contains(report.Problems, p => p.Subject == "mnist/1/model.onnx" && p.Message.EndsWith("(gave up after 3 attempts)", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Subject == "mnist/2/model.onnx" && p.Message.Contains("the source now sends 10", StringComparison.Ordinal));
        Assert.Empty(SyncHarness.AssertNoPartialVersion(_target.Root, objects));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    /// <summary>A bucket holding mnist versions 1 and 2, and what it holds by key.</summary>
    private async Task<(string Bucket, Dictionary<string, byte[]> Objects)> BucketAsync()
    {
        var bucket = await _s3.CreateBucketAsync();
        var objects = new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["mnist/1/model.onnx"] = SyncHarness.Mlp(1),
            ["mnist/2/model.onnx"] = SyncHarness.Mlp(2),
        };
        foreach (var (key, content) in objects)
        {
            await _s3.PutAsync(bucket, key, content);
        }

        return (bucket, objects);
    }

    private static string Listing(string contents, string? truncatedWith = null) =>
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix></Prefix>" +
        (truncatedWith is null ? "<IsTruncated>false</IsTruncated>" : $"<IsTruncated>true</IsTruncated><NextContinuationToken>{truncatedWith}</NextContinuationToken>") +
        contents + "</ListBucketResult>";
}
