using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ServingStack.ModelSync.Hosting;
using ServingStack.ModelSync.Publishing;
using ServingStack.ModelSync.Sources;
using ServingStack.ModelSync.Sync;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>
/// Sources that list what a repository cannot hold, send more than they should or point outside themselves: each
/// fails only what it touches, with a clear reason, and never takes the process down or lets a byte out of the source.
/// </summary>
[Collection(InProcessSidecars.Name)]
public sealed class HostileSourceTests : IClassFixture<S3Server>, IAsyncLifetime
{
    private readonly S3Server _s3;
    private readonly TempModelRepository _source = new();
    private readonly TempModelRepository _outside = new();
    private readonly TempModelRepository _target = new();
    private HttpModelServer _http = null!;

    public HostileSourceTests(S3Server s3) => _s3 = s3;

    public async Task InitializeAsync() => _http = await HttpModelServer.StartAsync(_source.Root);

    public async Task DisposeAsync()
    {
        await _http.DisposeAsync();
        _source.Dispose();
        _outside.Dispose();
        _target.Dispose();
    }

    [Fact]
    public async Task A_file_and_a_folder_of_the_same_name_fail_only_their_version_and_once_exits_1()
    {
        var bucket = await _s3.CreateBucketAsync();
        var v1 = await PutAsync(bucket, "mnist/1/model.onnx", SyncHarness.Mlp(1));
        var v20 = await PutAsync(bucket, "mnist/20/model.onnx", SyncHarness.Mlp(20));
        await PutAsync(bucket, "mnist/14/a", [1, 2, 3]);
        await PutAsync(bucket, "mnist/14/a/b", [4, 5, 6]);

        // (s3rver lists a/b before a, AWS the other way round; the index test below lists a first.)
        await using var sync = await ModelSyncProcess.RunAsync(SyncHarness.S3Environment(), SyncHarness.ProcessTimeout,
            "--source", $"s3://{bucket}", "--target", _target.Root, "--s3-endpoint", _s3.Endpoint.ToString(), "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.Contains("unsafe_path: mnist/14: 'a' is listed both as a file and as a folder (a/b)", sync.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sync.StdErr, StringComparison.Ordinal);
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        SyncHarness.AssertPublished(_target.Root, "mnist", 20, v20);
        Assert.Equal([1, 20], SyncHarness.Versions(_target.Root, "mnist"));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    [Fact]
    public async Task A_polling_sidecar_skips_a_version_it_cannot_write_syncs_the_others_and_becomes_ready()
    {
        var bucket = await _s3.CreateBucketAsync();
        var model = "clash_" + Guid.NewGuid().ToString("N")[..8];
        var v1 = await PutAsync(bucket, $"{model}/1/model.onnx", SyncHarness.Mlp(1));
        await PutAsync(bucket, $"{model}/14/a", [1, 2, 3]);
        await PutAsync(bucket, $"{model}/14/a/b", [4, 5, 6]);
        using var source = SyncHarness.S3Source(bucket, _s3.Endpoint);
        var log = new CapturedLog();
        await using var app = SyncHarness.Build([$"--source=s3://{bucket}", $"--target={_target.Root}", "--interval=200ms", "--urls=http://127.0.0.1:0"], log, source);
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };

        await Eventually.TrueAsync(() => SyncHarness.Versions(_target.Root, model).SequenceEqual([1L]), "version 1 to be published");
        SyncHarness.AssertPublished(_target.Root, model, 1, v1);

        // Every model has a version to serve: ready, but degraded, saying why.
        await Eventually.TrueAsync(async () => (await client.GetAsync("/ready")).IsSuccessStatusCode, "readiness");
        Assert.Equal("Degraded", await client.GetStringAsync("/ready"));
        var report = app.Services.GetRequiredService<SyncState>().Current.LastReport!;
        var problem = Assert.Single(report.Problems);
        Assert.Equal((SyncProblemKind.UnsafePath, $"{model}/14"), (problem.Kind, problem.Subject));
        Assert.Contains(log.Entries, e => e.EventId.Name == "UnsafeSourceVersion" && e.Message.Contains($"{model}/14", StringComparison.Ordinal));
        await Eventually.TrueAsync(async () => (await client.GetStringAsync("/metrics")).Split('\n')
            .Any(l => l.StartsWith("servingstack_modelsync_failures_total{", StringComparison.Ordinal) && l.Contains("reason=\"unsafe_path\"", StringComparison.Ordinal)), "the unsafe_path counter");
        await app.StopAsync();
    }

    [Fact]
    public async Task An_s3_listing_that_is_not_xml_exits_1_listing_failed()
    {
        var bucket = await _s3.CreateBucketAsync();
        await PutAsync(bucket, "mnist/1/model.onnx", SyncHarness.Mlp(1));
        await using var proxy = FaultProxy.Start(_s3.Endpoint);
        proxy.Answer = head => head.Contains("list-type=2", StringComparison.Ordinal)
            ? FaultProxy.Response(200, "application/xml", "<ListBucketResult><Contents><Key>mnist/1/model.onnx</Key><Size>12"u8.ToArray())
            : null;

        await using var sync = await ModelSyncProcess.RunAsync(SyncHarness.S3Environment(), SyncHarness.ProcessTimeout,
            "--source", $"s3://{bucket}", "--target", _target.Root, "--s3-endpoint", proxy.Endpoint.ToString(), "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.Contains($"listing_failed: s3://{bucket}/", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains("not a valid S3 listing", sync.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sync.StdErr, StringComparison.Ordinal);
        Assert.Empty(SyncHarness.Versions(_target.Root, "mnist"));
    }

    [Fact]
    public async Task A_chunked_index_stops_being_read_at_the_index_limit()
    {
        long served = 0;
        var total = 400L * 1024 * 1024;
        _http.Intercept = async context =>
        {
            if (context.Request.Path != "/models/index.json")
            {
                return false;
            }

            // No Content-Length: the body is chunked, and only reading it tells its size. Valid JSON, were it read whole.
            context.Response.ContentType = "application/json";
            var padding = new byte[64 * 1024];
            Array.Fill(padding, (byte)'x');
            try
            {
                await context.Response.Body.WriteAsync("{\"files\": [], \"padding\": \""u8.ToArray(), context.RequestAborted);
                while (Interlocked.Read(ref served) < total)
                {
                    await context.Response.Body.WriteAsync(padding, context.RequestAborted);
                    Interlocked.Add(ref served, padding.Length);
                }

                await context.Response.Body.WriteAsync("\"}"u8.ToArray(), context.RequestAborted);
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException)
            {
                // The client stopped reading: what it should do.
            }

            return true;
        };

        // Counted where the client's socket takes them: Kestrel may go on "writing" into a connection already gone.
        await using var proxy = FaultProxy.Start(_http.Address);
        var (report, _) = await SyncHarness.SyncAsync([$"--source={new Uri(proxy.Endpoint, "/models/index.json")}", $"--target={_target.Root}"]);

        var problem = Assert.Single(report.Problems);
        Assert.Equal(SyncProblemKind.ListingFailed, problem.Kind);
        Assert.Contains($"larger than {HttpIndexModelSource.MaxIndexBytes} bytes", problem.Message, StringComparison.Ordinal);

        // The index limit, plus what loopback socket buffers absorb (autotuned up to tens of MiB), far from all of it.
        Assert.True(proxy.ResponseBytes < total / 4, $"the client read on: {proxy.ResponseBytes} bytes reached its socket");
    }

    [Fact]
    public async Task Symbolic_links_are_never_followed_out_of_a_folder_source()
    {
        var v1 = SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        var secret = SyncHarness.Write(_outside.Root, "private", 1, Encoding.UTF8.GetBytes("secret token"), "token");
        var secretFile = Path.Combine(_outside.Root, "private", "1", "token");
        var secretFolder = Path.GetDirectoryName(secretFile)!;

        // A file link and a folder link inside versions, a version folder link and a model folder link, all leading out.
        Directory.CreateDirectory(Path.Combine(_source.Root, "mnist", "2"));
        File.CreateSymbolicLink(Path.Combine(_source.Root, "mnist", "2", "model.onnx"), secretFile);
        SyncHarness.Write(_source.Root, "mnist", 3, SyncHarness.Mlp(3));
        Directory.CreateSymbolicLink(Path.Combine(_source.Root, "mnist", "3", "assets"), secretFolder);
        Directory.CreateSymbolicLink(Path.Combine(_source.Root, "mnist", "4"), secretFolder);
        Directory.CreateSymbolicLink(Path.Combine(_source.Root, "leaked"), Path.Combine(_outside.Root, "private"));

        // A link that stays inside the source is an ordinary file; one that loops or leads nowhere is not.
        Directory.CreateDirectory(Path.Combine(_source.Root, "mnist", "5"));
        File.CreateSymbolicLink(Path.Combine(_source.Root, "mnist", "5", "model.onnx"), Path.Combine("..", "1", "model.onnx"));
        SyncHarness.Write(_source.Root, "mnist", 6, SyncHarness.Mlp(6));
        Directory.CreateSymbolicLink(Path.Combine(_source.Root, "mnist", "6", "loop"), ".");
        Directory.CreateDirectory(Path.Combine(_source.Root, "mnist", "7"));
        File.CreateSymbolicLink(Path.Combine(_source.Root, "mnist", "7", "model.onnx"), "missing.onnx");

        await using var sync = await ModelSyncProcess.RunAsync(null, SyncHarness.ProcessTimeout, "--source", _source.Root, "--target", _target.Root, "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.Contains($"unsafe_path: mnist/2: mnist/2/model.onnx is a symbolic link to {secretFile}, outside the source", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains($"unsafe_path: mnist/3: mnist/3/assets is a symbolic link to {secretFolder}, outside the source", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains($"unsafe_path: mnist/4: mnist/4 is a symbolic link to {secretFolder}, outside the source", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains($"unsafe_path: leaked: leaked is a symbolic link to {Path.Combine(_outside.Root, "private")}, outside the source", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains("unsafe_path: mnist/6: mnist/6/loop leads back into a folder above it (a link cycle)", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains("unsafe_path: mnist/7: mnist/7/model.onnx is a symbolic link to missing.onnx, which does not exist or loops", sync.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("size_mismatch", sync.StdErr, StringComparison.Ordinal);
        Assert.Equal([1, 5], SyncHarness.Versions(_target.Root, "mnist"));
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        SyncHarness.AssertPublished(_target.Root, "mnist", 5, v1);
        Assert.False(Directory.Exists(Path.Combine(_target.Root, "leaked")));
        foreach (var file in Directory.EnumerateFiles(_target.Root, "*", SearchOption.AllDirectories))
        {
            Assert.False(File.ReadAllBytes(file).AsSpan().SequenceEqual(secret), $"{file} holds the outside file");
        }
    }

    [Fact]
    public async Task A_fifo_in_a_folder_source_is_refused_without_blocking_the_pass()
    {
        var v2 = SyncHarness.Write(_source.Root, "mnist", 2, SyncHarness.Mlp(2));
        var fifo = Path.Combine(_source.Root, "mnist", "1", "model.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(fifo)!);
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // Opening a FIFO for reading waits for a writer that never comes: the pass must not.
        var (report, _) = await SyncHarness.SyncAsync([$"--source={_source.Root}", $"--target={_target.Root}"], SyncHarness.QuickFolder(_source.Root))
            .WaitAsync(TimeSpan.FromSeconds(60));

        var problem = Assert.Single(report.Problems);
        Assert.Equal((SyncProblemKind.SourceError, "mnist/1/model.onnx"), (problem.Kind, problem.Subject));
        Assert.Contains("is not a regular file", problem.Message, StringComparison.Ordinal);
        Assert.Equal(["mnist/2"], report.Published);
        SyncHarness.AssertPublished(_target.Root, "mnist", 2, v2);
    }

    [Fact]
    public async Task Unsafe_and_unwritable_names_in_an_index_fail_their_version_and_nothing_lands_outside_the_target()
    {
        var v1 = SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        var v10 = SyncHarness.Write(_source.Root, "mnist", 10, SyncHarness.Mlp(10));
        var index = _http.BuildIndex();
        var files = index["files"]!.AsArray();
        var fake = new string('0', 64);
        foreach (var path in new[]
        {
            "mnist/2/../../../escaped.txt", "mnist/3/a\\b", "mnist/4/a\0b", "mnist/5/line\nbreak.txt", "mnist/6/" + new string('a', 300),
            "mnist/7/" + new string('d', 300) + "/x", "mnist/8/a", "mnist/8/a/b",
            "mnist/1.5/x", "mnist/+9/x", "mnist/ 9/x", "../mnist/9/x", ".staging/9/x",
        })
        {
            files.Add(new JsonObject { ["path"] = path, ["size"] = 3, ["sha256"] = fake });
        }

        // A leading '/' is read relative to the index, as every path is.
        foreach (var entry in files.Where(f => (string?)f!["path"] == "mnist/10/model.onnx"))
        {
            entry!["path"] = "/mnist/10/model.onnx";
        }

        _http.Intercept = async context =>
        {
            if (context.Request.Path != "/models/index.json")
            {
                return false;
            }

            await context.Response.WriteAsJsonAsync(index);
            return true;
        };

        var (report, _) = await SyncHarness.SyncAsync([$"--source={_http.IndexUri}", $"--target={_target.Root}"]);

        Assert.Equal(["mnist/10", "mnist/1"], report.Published);
        Assert.All(report.Problems, p => Assert.Equal(SyncProblemKind.UnsafePath, p.Kind));
        Assert.Equal(["mnist/2", "mnist/3", "mnist/4", "mnist/5", "mnist/6", "mnist/7", "mnist/8"], report.Problems.Select(p => p.Subject).Order(StringComparer.Ordinal));
        Assert.Contains(report.Problems, p => p.Subject == "mnist/6" && p.Message.Contains("longer than 255 bytes", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Subject == "mnist/5" && p.Message.Contains("control character", StringComparison.Ordinal));
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        SyncHarness.AssertPublished(_target.Root, "mnist", 10, v10);
        Assert.Equal(["mnist/1", "mnist/10"], SyncHarness.AssertNoPartialVersion(_target.Root, SyncHarness.FilesUnder(_source.Root)));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_target.Root)!, "escaped.txt")));
        Assert.Equal([StagingArea.FolderName, "mnist"], Directory.EnumerateFileSystemEntries(_target.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    private async Task<byte[]> PutAsync(string bucket, string key, byte[] content)
    {
        await _s3.PutAsync(bucket, key, content);
        return content;
    }
}
