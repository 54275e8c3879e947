using Microsoft.Extensions.Time.Testing;
using ServingStack.Inference.Repository;
using ServingStack.ModelSync.Hosting;
using ServingStack.ModelSync.Publishing;
using ServingStack.ModelSync.Sources;
using ServingStack.ModelSync.Sync;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

[Collection(InProcessSidecars.Name)]
public sealed class FolderSourceTests : IDisposable
{
    private readonly TempModelRepository _source = new();
    private readonly TempModelRepository _target = new();

    public void Dispose()
    {
        _source.Dispose();
        _target.Dispose();
    }

    [Fact]
    public async Task A_folder_syncs_end_to_end_from_environment_configuration_and_the_server_loads_it()
    {
        var v1 = SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        var v2 = SyncHarness.Write(_source.Root, "mnist", 2, SyncHarness.Mlp(2));
        var labels = SyncHarness.Write(_source.Root, "mnist", 2, "zero\none\n"u8.ToArray(), "assets/labels.txt");
        SyncHarness.Write(_source.Root, "mnist", 0, SyncHarness.Mlp(3));             // not a positive version
        File.WriteAllText(Path.Combine(_source.Root, "README.md"), "not a model");
        Directory.CreateDirectory(Path.Combine(_source.Root, "mnist", "latest"));
        File.WriteAllText(Path.Combine(_source.Root, "mnist", "latest", "model.onnx"), "not a version");

        // The AppHost and Kubernetes configure the sidecar through ModelSync__* variables, not flags.
        await using var sync = await ModelSyncProcess.RunAsync(new Dictionary<string, string>
        {
            ["ModelSync__Source"] = _source.Root,
            ["ModelSync__Target"] = _target.Root,
            ["ModelSync__Once"] = "true",
        }, SyncHarness.ProcessTimeout);

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Complete, sync.ToString());
        Assert.Contains("complete", sync.StdOut, StringComparison.Ordinal);
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, v1);
        SyncHarness.AssertPublished(_target.Root, "mnist", 2, v2);
        SyncHarness.AssertPublished(_target.Root, "mnist", 2, labels, "assets/labels.txt");
        Assert.Equal([1, 2], SyncHarness.Versions(_target.Root, "mnist"));
        Assert.False(Directory.Exists(Path.Combine(_target.Root, "mnist", "latest")));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));

        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={Path.Combine(_target.Root, "mnist")}");
        var model = Assert.Single(server.Models.Models);
        Assert.Equal(ModelVersionState.Available, Assert.Single(model.Versions, v => v.Version == 2).State);
    }

    [Fact]
    public async Task A_file_that_changes_between_two_listings_is_not_settled()
    {
        SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        SyncHarness.Write(_source.Root, "mnist", 2, SyncHarness.Mlp(2));
        var time = new FakeTimeProvider();
        using var folder = new FileSystemModelSource(_source.Root, TimeSpan.FromSeconds(1), time);

        // ListAsync takes its first listing before it waits on the clock; the copy goes on meanwhile.
        var listing = folder.ListAsync(CancellationToken.None);
        Assert.False(listing.IsCompleted);
        File.AppendAllText(Path.Combine(_source.Root, "mnist", "2", "model.onnx"), "more bytes");
        SyncHarness.Write(_source.Root, "mnist", 1, [1, 2, 3], "new-file.bin");
        time.Advance(TimeSpan.FromSeconds(1));
        var files = await listing;

        Assert.All(files, f => Assert.False(f.Settled, $"{f.Path} should not be settled"));

        // Nothing changes between the next two listings: everything is settled.
        listing = folder.ListAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.All(await listing, f => Assert.True(f.Settled, $"{f.Path} should be settled"));
    }

    [Fact]
    public async Task A_version_still_being_written_is_reported_and_not_published()
    {
        var source = new StubModelSource()
            .Add("mnist/1/model.onnx", SyncHarness.Mlp(1))
            .Add("mnist/2/model.onnx", SyncHarness.Mlp(2), settled: false);

        var (report, _) = await SyncHarness.SyncAsync([$"--source={_source.Root}", $"--target={_target.Root}"], source);

        var problem = Assert.Single(report.Problems);
        Assert.Equal((SyncProblemKind.Unsettled, "mnist/2"), (problem.Kind, problem.Subject));
        Assert.Equal(["mnist/1"], report.Published);
        Assert.Equal([1], SyncHarness.Versions(_target.Root, "mnist"));
    }

    [Fact]
    public async Task A_version_in_the_target_is_never_rewritten_and_a_different_one_is_reported()
    {
        var original = SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        var args = new[] { $"--source={_source.Root}", $"--target={_target.Root}" };
        Assert.True((await SyncHarness.SyncAsync(args, SyncHarness.QuickFolder(_source.Root))).Report.Succeeded);

        // Same size, other bytes: versions are immutable, so the published one stays.
        var changed = (byte[])original.Clone();
        changed[^1] ^= 0xFF;
        SyncHarness.Write(_source.Root, "mnist", 1, changed);
        var (report, _) = await SyncHarness.SyncAsync(args, SyncHarness.QuickFolder(_source.Root));
        Assert.True(report.Succeeded);
        Assert.Equal(["mnist/1"], report.Present);
        Assert.Empty(report.Published);
        SyncHarness.AssertPublished(_target.Root, "mnist", 1, original);

        // A file the target's copy lacks is a difference worth reporting, never a rewrite.
        SyncHarness.Write(_source.Root, "mnist", 1, [1, 2, 3], "extra.bin");
        (report, _) = await SyncHarness.SyncAsync(args, SyncHarness.QuickFolder(_source.Root));
        var problem = Assert.Single(report.Problems);
        Assert.Equal(SyncProblemKind.TargetMismatch, problem.Kind);
        Assert.Contains("extra.bin is missing", problem.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_target.Root, "mnist", "1", "extra.bin")));
    }

    [Fact]
    public async Task Retention_keeps_the_newest_versions_per_model()
    {
        for (var v = 1; v <= 4; v++)
        {
            SyncHarness.Write(_source.Root, "mnist", v, SyncHarness.Mlp(v));
        }

        SyncHarness.Write(_source.Root, "other", 7, SyncHarness.Mlp(7));
        var args = new[] { $"--source={_source.Root}", $"--target={_target.Root}", "--keep=2" };
        var (report, _) = await SyncHarness.SyncAsync(args, SyncHarness.QuickFolder(_source.Root));
        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.Equal(["mnist/4", "mnist/3", "other/7"], report.Published);
        Assert.Equal([3, 4], SyncHarness.Versions(_target.Root, "mnist"));
        Assert.Equal([7], SyncHarness.Versions(_target.Root, "other"));

        // A new version arrives: it is published and the oldest kept one goes, out of the model folder first.
        SyncHarness.Write(_source.Root, "mnist", 5, SyncHarness.Mlp(5));
        (report, var log) = await SyncHarness.SyncAsync(args, SyncHarness.QuickFolder(_source.Root));
        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.Equal(["mnist/5"], report.Published);
        Assert.Equal(["mnist/3"], report.Removed);
        Assert.Equal([4, 5], SyncHarness.Versions(_target.Root, "mnist"));
        Assert.Contains(log.Entries, e => e.EventId.Name == "VersionRetired");
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    [Fact]
    public async Task Stale_staging_is_removed_at_start()
    {
        SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        var stale = Path.Combine(_target.Root, StagingArea.FolderName, "mnist", "1.0123456789ab");
        Directory.CreateDirectory(stale);
        File.WriteAllBytes(Path.Combine(stale, "model.onnx"), new byte[1000]);

        var (report, log) = await SyncHarness.SyncAsync([$"--source={_source.Root}", $"--target={_target.Root}"], SyncHarness.QuickFolder(_source.Root));

        Assert.True(report.Succeeded, string.Join("; ", report.Problems));
        Assert.False(Directory.Exists(stale));
        Assert.Contains(log.Entries, e => e.EventId.Name == "StaleStagingRemoved" && e.Message.Contains(Path.Combine(StagingArea.FolderName, "mnist"), StringComparison.Ordinal));
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));
    }

    [Fact]
    public async Task A_second_sync_process_on_the_same_target_is_refused()
    {
        SyncHarness.Write(_source.Root, "mnist", 1, SyncHarness.Mlp(1));
        using var holder = new StagingArea(_target.Root);
        holder.Open();

        await using var sync = await ModelSyncProcess.RunAsync(null, SyncHarness.ProcessTimeout, "--source", _source.Root, "--target", _target.Root, "--once");

        Assert.True(sync.ExitCode == ModelSyncExitCodes.Incomplete, sync.ToString());
        Assert.Contains("another model sync process", sync.StdErr, StringComparison.Ordinal);
        Assert.Empty(SyncHarness.Versions(_target.Root, "mnist"));
    }

    [Fact]
    public async Task An_empty_or_missing_source_is_an_error_not_a_complete_repository()
    {
        var (report, _) = await SyncHarness.SyncAsync([$"--source={_source.Root}", $"--target={_target.Root}"], SyncHarness.QuickFolder(_source.Root));
        Assert.Equal(SyncProblemKind.EmptySource, Assert.Single(report.Problems).Kind);

        var missing = Path.Combine(_source.Root, "nowhere");
        (report, _) = await SyncHarness.SyncAsync([$"--source={missing}", $"--target={_target.Root}"], SyncHarness.QuickFolder(missing));
        var problem = Assert.Single(report.Problems);
        Assert.Equal(SyncProblemKind.ListingFailed, problem.Kind);
        Assert.Contains("does not exist", problem.Message, StringComparison.Ordinal);
    }
}
