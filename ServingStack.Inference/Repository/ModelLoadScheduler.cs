using System.Globalization;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>
/// Runs version loads on background tasks, at most <c>--num_load_threads</c> at once, and schedules retries by the
/// <see cref="LoadRetryPolicy"/>. Every task it starts is tracked, so shutdown can wait for loads in flight instead of
/// leaving them to finish (or fail) behind its back.
/// </summary>
internal sealed class ModelLoadScheduler : IDisposable
{
    private readonly Func<ModelConfig, long, string, OnnxModelSession> _load;
    private readonly ServingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly LoadRetryPolicy _retry;
    private readonly Func<bool> _isDraining;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _gate = new();
    private readonly Dictionary<long, Task> _running = [];
    private long _nextId;
    private bool _stopped;

    /// <param name="load">Loads and warms one version folder (<see cref="ModelVersionLoader.Load"/>); throws when it cannot.</param>
    public ModelLoadScheduler(
        Func<ModelConfig, long, string, OnnxModelSession> load, ServingMetrics metrics, ILogger logger, TimeProvider time, LoadRetryPolicy retry, int loadThreads, Func<bool> isDraining)
    {
        _load = load;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _retry = retry;
        _isDraining = isDraining;
        // tensorflow_model_server's --num_load_threads=0 loads serially: one slot.
        _slots = new SemaphoreSlim(Math.Max(1, loadThreads));
    }

    /// <summary>Called after each load or retry wake-up: a new version may let an old one retire, a failed one may retry.</summary>
    public Action<ManagedModel>? AfterLoad { get; set; }

    /// <summary>Loads and retry timers still running.</summary>
    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _running.Count;
            }
        }
    }

    private bool IsStopped
    {
        get
        {
            lock (_gate)
            {
                return _stopped;
            }
        }
    }

    /// <summary>Starts loading <paramref name="version"/> (in START) in the background; false once shutdown has begun.</summary>
    public bool Start(ManagedModel model, ModelVersion version) => Track(() => LoadAsync(model, version));

    /// <summary>Stops new loads and retries, then waits for the loads in flight (an ONNX Runtime load cannot be cut short).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task[] running;
        lock (_gate)
        {
            _stopped = true;
            running = [.. _running.Values];
        }

        await _stop.CancelAsync();
        await Task.WhenAll(running).WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        _stop.Dispose();
        _slots.Dispose();
    }

    private bool Track(Func<Task> work)
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return false;
            }

            var id = ++_nextId;
            // The task leaves the set in its own finally (which waits for this lock), so a finished task is never counted.
            _running[id] = Task.Run(async () =>
            {
                try
                {
                    await work();
                }
                finally
                {
                    lock (_gate)
                    {
                        _running.Remove(id);
                    }
                }
            });
            return true;
        }
    }

    private async Task LoadAsync(ManagedModel model, ModelVersion version)
    {
        try
        {
            await _slots.WaitAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            version.MarkFailed("not loaded: the server is shutting down");
            return;
        }

        var started = _time.GetTimestamp();
        try
        {
            if (!version.MarkLoading())
            {
                return;
            }

            ModelLifecycleLog.Loading(_logger, model.Name, version.Version, version.Path);
            var config = model.Config;
            var session = _load(config, version.Version, version.Path);
            DynamicBatcher? batcher;
            try
            {
                batcher = CreateBatcher(config, version.Version, session);
            }
            catch
            {
                session.Dispose();
                throw;
            }

            if (!version.MarkAvailable(session, batcher))
            {
                batcher?.Dispose();
                session.Dispose();
                return;
            }

            lock (model.Gate)
            {
                model.UpdateLabels();
            }

            if (IsStopped)
            {
                // Shutdown's retire pass may already have run: a version that turns AVAILABLE now retires itself.
                version.Retire();
            }

            _metrics.RecordLoad(model.Name, VersionText(version), version.Path, true, _time.GetElapsedTime(started));
            ModelLifecycleLog.Available(_logger, model.Name, version.Version, session.ExecutionProvider, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex)
        {
            Failed(model, version, ex, started);
        }
        finally
        {
            _slots.Release();
        }

        Notify(model);
    }

    /// <summary>
    /// Retried per --max_num_load_retries / --load_retry_interval_micros while older versions keep serving; a change
    /// to the version's files is tried at once, whatever the count.
    /// </summary>
    private void Failed(ManagedModel model, ModelVersion version, Exception ex, long started)
    {
        var message = ex is ModelLoadException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
        version.FailedAttempts++;
        var retry = _retry.DelayAfter(version.FailedAttempts);
        version.RetryAt = retry is { } delay ? _time.GetUtcNow() + delay : DateTimeOffset.MaxValue;
        version.MarkFailed(message);
        _metrics.RecordLoad(model.Name, VersionText(version), version.Path, false, _time.GetElapsedTime(started));
        if (retry is { } wait)
        {
            ModelLifecycleLog.LoadFailed(_logger, model.Name, version.Version, version.FailedAttempts, wait.TotalSeconds, message);
            Track(() => RetryLaterAsync(model, version, wait));
        }
        else
        {
            ModelLifecycleLog.LoadGaveUp(_logger, model.Name, version.Version, version.FailedAttempts, _retry.MaxRetries, message);
        }
    }

    /// <summary>Wakes the model up for a retry at its time, so retries happen with polling off too.</summary>
    private async Task RetryLaterAsync(ManagedModel model, ModelVersion failed, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (_isDraining())
        {
            return;
        }

        // The timer and the wall clock may disagree by a tick: this wake-up is the retry time.
        failed.RetryAt = _time.GetUtcNow();
        Notify(model);
    }

    private void Notify(ManagedModel model)
    {
        try
        {
            AfterLoad?.Invoke(model);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ModelLifecycleLog.ScanFailed(_logger, model.Name, model.Config.BasePath, ex.Message);
        }
    }

    private DynamicBatcher? CreateBatcher(ModelConfig config, long version, OnnxModelSession session)
    {
        if (!config.Batching.Enabled)
        {
            return null;
        }

        if (!DynamicBatcher.CanBatch(session))
        {
            ModelLifecycleLog.NotBatchable(_logger, config.Name, version);
            return null;
        }

        return new DynamicBatcher(session, config.Batching, _metrics, config.Name, version);
    }

    private static string VersionText(ModelVersion version) => version.Version.ToString(CultureInfo.InvariantCulture);
}
