using System.Collections.Concurrent;
using ServingStack.ModelSync.Hosting;
using ServingStack.ModelSync.Publishing;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ModelSync;

/// <summary>The sync process dies mid-download (SIGKILL: no handler runs), with a real server watching the repository.</summary>
public sealed class CrashSafetyTests : IAsyncLifetime
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
    public async Task A_sync_killed_mid_download_publishes_nothing_partial_and_the_next_run_completes_it()
    {
        // ~100 MB of real ONNX model, served at 25 MB/s: the download takes about four seconds.
        var model = SyncHarness.Write(_source.Root, "wide", 2, ModelFactory.CreateWideMlp(seed: 3));
        _http.BytesPerSecond = 25L * 1024 * 1024;
        var modelBase = Path.Combine(_target.Root, "wide");
        await using var server = await InferenceServer.StartAsync("--model_name=wide", $"--model_base_path={modelBase}", "--file_system_poll_wait_seconds=1");

        // Everything the server ever lists for the model, sampled until the second run starts.
        var seen = new ConcurrentBag<long>();
        using var stopSampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stopSampling.IsCancellationRequested)
            {
                foreach (var model in server.Models.Models)
                {
                    foreach (var version in model.Versions)
                    {
                        seen.Add(version.Version);
                    }
                }

                await Task.Delay(5);
            }
        });

        await using (var sync = ModelSyncProcess.Start(null, "--source", _http.IndexUri.ToString(), "--target", _target.Root, "--once"))
        {
            string? partial = null;
            await Eventually.TrueAsync(() =>
            {
                partial = Directory.Exists(Path.Combine(_target.Root, StagingArea.FolderName, "wide"))
                    ? Directory.EnumerateFiles(Path.Combine(_target.Root, StagingArea.FolderName, "wide"), "model.onnx", SearchOption.AllDirectories).FirstOrDefault()
                    : null;
                return sync.HasExited || (partial is not null && new FileInfo(partial).Length >= model.Length / 3);
            }, "the staged model.onnx to pass a third of its size", TimeSpan.FromSeconds(60));
            Assert.False(sync.HasExited, $"the sync finished before it could be killed:\n{sync}");

            await sync.KillAsync();

            var left = new FileInfo(partial!).Length;
            Assert.True(left < model.Length, $"the staged file was complete ({left} bytes) when the process was killed");
        }

        // Nothing partial is visible: no version folder, and a fresh scan by the server finds no version.
        Assert.Empty(SyncHarness.Versions(_target.Root, "wide"));
        server.Models.Reconcile();
        Assert.Empty(Assert.Single(server.Models.Models).Versions);
        Assert.NotEmpty(SyncHarness.StagingLeftovers(_target.Root)); // the killed run's partial download, for the next run to clear

        // The next run (an init container restarting) clears the stale staging and completes the version.
        _http.BytesPerSecond = null;
        stopSampling.Cancel();
        await sampler;
        Assert.Empty(seen);

        await using var rerun = await ModelSyncProcess.RunAsync(null, SyncHarness.ProcessTimeout, "--source", _http.IndexUri.ToString(), "--target", _target.Root, "--once");
        Assert.True(rerun.ExitCode == ModelSyncExitCodes.Complete, rerun.ToString());
        Assert.Contains("Removed stale staging", rerun.StdOut, StringComparison.Ordinal);
        SyncHarness.AssertPublished(_target.Root, "wide", 2, model);
        Assert.Empty(SyncHarness.StagingLeftovers(_target.Root));

        await Eventually.TrueAsync(async () =>
        {
            var (status, body, _) = await Json.GetAsync(server.Client, "/v1/models/wide");
            return status == 200 && body!["model_version_status"]!.AsArray().Any(s => (string?)s!["version"] == "2" && (string?)s["state"] == "AVAILABLE");
        }, "the server to load version 2", TimeSpan.FromSeconds(60));
    }
}
