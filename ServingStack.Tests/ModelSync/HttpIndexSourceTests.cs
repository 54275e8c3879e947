using ServingStack.ModelSync.Hosting;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

[Collection(InProcessSidecars.Name)]
public sealed class HttpIndexSourceTests : IAsyncLifetime
{
    private readonly TempModelRepository _source = new();
    private readonly TempModelRepository _target = new();
    private HttpModelServer _http = null!;

    public async Task InitializeAsync() => _http = await HttpModelServer.StartAsync(_source.Root);

    public async Task DisposeAsync()
    {
        await _http.DisposeAsync();
        _source.Dispose();
        _target.Dispose();
    }

    [Fact]
    public async Task An_http_index_syncs_every_listed_file_verified()
    {
        var v1 = SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        var labels = SyncHarness.Write(_source.Root, "mnist", 1, "zero\none\n"u8.ToArray(), "assets/my labels.txt");
        var other = SyncHarness.Write(_source.Root, "other", 3, SyncHarness.Mlp(3));

        var (report, _) = await SyncHarness.SyncAsync([$"--source={_http.IndexUri}", $"--target={_target.Root}"]);

        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.Equal(["mnist/1", "other/3"], report.Published);
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, labels, "assets/my labels.txt");
        SyncHarness.AssertPublished(_target.Root, "other", 3, other);
        Assert.Equal(v1.Length + labels.Length + other.Length, report.BytesDownloaded);

        // Present versions are not downloaded again.
        var (again, _) = await SyncHarness.SyncAsync([$"--source={_http.IndexUri}", $"--target={_target.Root}"]);
        Assert.True(again.Succeeded);
        Assert.Empty(again.Published);
        Assert.Equal(0, again.BytesDownloaded);
        Assert.Equal(1, _http.Requests["mnist/1/model.onnx"]);
    }

    [Fact]
    public async Task A_wrong_sha256_is_never_published_and_once_exits_non_zero_naming_the_file()
    {
        var v1 = SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        var v2 = SyncHarness.Write(_source.Root, "mnist", 2, SyncHarness.Mlp(2));
        var claimed = SyncHarness.Sha256(SyncHarness.Mlp(99));
        _http.Sha256Overrides["mnist/2/model.onnx"] = claimed;

        await using var sync = await ModelSyncProcess.RunAsync(null, SyncHarness.ProcessTimeout,
            "--source", _http.IndexUri.ToString(), "--target", _target.Root, "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.Contains("incomplete", sync.StdErr, StringComparison.Ordinal);
        Assert.Contains($"checksum_mismatch: mnist/2/model.onnx: SHA-256 mismatch: expected {claimed} (the index), got {SyncHarness.Sha256(v2)}", sync.StdErr, StringComparison.Ordinal);
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        Assert.Equal([1], SyncHarness.Versions(_target.Root, "mnist"));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    [Fact]
    public async Task An_unreachable_index_fails_once_with_the_reason()
    {
        var missing = new Uri(_http.Address, "/nothing/here/index.json");

        var (report, _) = await SyncHarness.SyncAsync([$"--source={missing}", $"--target={_target.Root}"]);

        var problem = Assert.Single(report.Problems);
        Assert.Equal(ServingStack.ModelSync.Sync.SyncProblemKind.ListingFailed, problem.Kind);
        Assert.Contains("404", problem.Message, StringComparison.Ordinal);
    }
}
