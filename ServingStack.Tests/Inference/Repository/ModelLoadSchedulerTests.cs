using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Repository;

/// <summary>
/// The loader: loads are tracked tasks that shutdown waits for, loads queued behind the load slots are abandoned at
/// shutdown, and failed loads retry on the clock (a fake one here) per --max_num_load_retries / --load_retry_interval_micros.
/// A load that blocks or fails on cue is the fault a real file cannot give on demand, so the load step is a test's own
/// function around a real session.
/// </summary>
public sealed class ModelLoadSchedulerTests : IAsyncLifetime
{
    private readonly LifecycleRig _rig = new();
    private ModelVersionUnloader _unloader = null!;
    private int _unloaded;

    public Task InitializeAsync()
    {
        _unloader = new ModelVersionUnloader(_rig.Logger);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _unloader.DisposeAsync();
        _rig.Dispose();
    }

    private ModelLoadScheduler Scheduler(Func<ModelConfig, long, string, OnnxModelSession> load, int loadThreads = 2, LoadRetryPolicy? retry = null) =>
        new(load, _rig.Metrics, _rig.Logger, _rig.Time, retry ?? new LoadRetryPolicy(0, 0), loadThreads, () => false);

    private (ManagedModel Model, ModelVersion Version) NewVersion(long number)
    {
        var folder = _rig.AddIdentity("m", number);
        var model = new ManagedModel(LifecycleRig.Config("m", Path.GetDirectoryName(folder)!, LifecycleRig.Latest(1)));
        var version = new ModelVersion("m", number, folder, _ => Interlocked.Increment(ref _unloaded), _unloader);
        model.SetVersions([version]);
        return (model, version);
    }

    private OnnxModelSession Open(long version) =>
        _rig.Sessions.Create(Path.Combine(_rig.AddIdentity("m", version), ModelVersionLoader.ModelFileName), new ExecutionSettings(), "m", version);

    [Fact]
    public async Task Stop_waits_for_a_load_in_flight_and_a_version_that_loads_after_stop_retires_itself()
    {
        using var release = new ManualResetEventSlim();
        using var loads = Scheduler((_, v, _) =>
        {
            release.Wait(TimeSpan.FromSeconds(60));
            return Open(v);
        });
        var (model, version) = NewVersion(1);
        Assert.True(loads.Start(model, version));
        await Eventually.TrueAsync(() => version.State == ModelVersionState.Loading, "the load to start");

        var stop = loads.StopAsync(CancellationToken.None);
        Assert.False(stop.IsCompleted); // the load is blocked: stop cannot have finished
        Assert.False(loads.Start(model, NewVersion(2).Version));
        release.Set();
        await stop;

        Assert.Equal(0, loads.Pending);
        // It finished loading after shutdown began: it must not stay AVAILABLE behind shutdown's back.
        await Eventually.TrueAsync(() => version.State == ModelVersionState.End, "the late version to unload");
        Assert.Equal(1, Volatile.Read(ref _unloaded));
        Assert.Equal(1, _rig.Count(LifecycleRig.AvailableEvent));
    }

    [Fact]
    public async Task Loads_queued_behind_the_load_slots_are_abandoned_at_shutdown()
    {
        using var release = new ManualResetEventSlim();
        var calls = 0;
        using var loads = Scheduler((_, v, _) =>
        {
            Interlocked.Increment(ref calls);
            release.Wait(TimeSpan.FromSeconds(60));
            return Open(v);
        }, loadThreads: 1);
        var (first, loading) = NewVersion(1);
        var (second, queued) = NewVersion(2);
        Assert.True(loads.Start(first, loading));
        await Eventually.TrueAsync(() => loading.State == ModelVersionState.Loading, "the first load to start");
        Assert.True(loads.Start(second, queued));

        var stop = loads.StopAsync(CancellationToken.None);
        await Eventually.TrueAsync(() => queued.State == ModelVersionState.End, "the queued load to be abandoned");
        Assert.Contains("shutting down", queued.Error);
        release.Set();
        await stop;

        Assert.Equal(1, Volatile.Read(ref calls));
        Assert.Equal(0, loads.Pending);
    }

    [Fact]
    public async Task A_failed_load_is_retried_when_the_retry_interval_has_passed_on_the_clock()
    {
        var wakeUps = 0;
        using var loads = Scheduler(
            (_, _, path) => throw new ModelLoadException($"no model.onnx in '{path}'"),
            retry: new LoadRetryPolicy(maxRetries: 2, intervalMicros: 5_000_000));
        loads.AfterLoad = _ => Interlocked.Increment(ref wakeUps);
        var (model, version) = NewVersion(1);
        var failedAt = _rig.Time.GetUtcNow();

        Assert.True(loads.Start(model, version));
        await Eventually.TrueAsync(() => Volatile.Read(ref wakeUps) == 1 && loads.Pending == 1, "the failed load, and its retry timer");
        Assert.Equal(ModelVersionState.End, version.State);
        Assert.Contains("no model.onnx", version.Error);
        Assert.Equal(1, version.FailedAttempts);
        Assert.Equal(failedAt + TimeSpan.FromSeconds(5), version.RetryAt);

        _rig.Time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(1, loads.Pending); // not yet: the timer is still waiting
        _rig.Time.Advance(TimeSpan.FromSeconds(0.1));
        await Eventually.TrueAsync(() => Volatile.Read(ref wakeUps) == 2 && loads.Pending == 0, "the retry wake-up");
        Assert.Equal(_rig.Time.GetUtcNow(), version.RetryAt);
        Assert.Contains(_rig.Log.Entries, e => e.EventId.Name == "VersionLoadFailed" && e.Message.Contains("attempt 1; next try in 5 s", StringComparison.Ordinal));
    }

    [Fact]
    public void The_retry_policy_allows_max_retries_more_attempts_at_the_interval()
    {
        var policy = new LoadRetryPolicy(maxRetries: 2, intervalMicros: 1_500_000);
        Assert.Equal(TimeSpan.FromSeconds(1.5), policy.DelayAfter(1));
        Assert.Equal(TimeSpan.FromSeconds(1.5), policy.DelayAfter(2));
        Assert.Null(policy.DelayAfter(3));
        Assert.Equal(TimeSpan.Zero, new LoadRetryPolicy(5, -1).DelayAfter(1));
        Assert.Equal(TimeSpan.FromDays(24), new LoadRetryPolicy(5, long.MaxValue).DelayAfter(1));
        Assert.Null(new LoadRetryPolicy(0, 10).DelayAfter(1));
    }
}
