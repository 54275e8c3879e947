using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServingStack.ModelSync.Configuration;

namespace ServingStack.ModelSync.Sync;

/// <summary>The polling sidecar: a pass, then a jittered interval (or a backoff after a failure), until the host stops.</summary>
public sealed class SyncWorker : BackgroundService
{
    private readonly ModelSyncer _syncer;
    private readonly SyncState _state;
    private readonly ModelSyncOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SyncWorker> _logger;

    public SyncWorker(ModelSyncer syncer, SyncState state, IOptions<ModelSyncOptions> options, TimeProvider time, ILogger<SyncWorker> logger)
    {
        _syncer = syncer;
        _state = state;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (Kestrel, health endpoints) before the first, possibly long, pass.
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _syncer.SyncAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A bug, not a source problem: keep polling, and let the failure count drive the backoff.
                ModelSyncLog.SyncPassFailed(_logger, ex);
                _state.Record(new SyncReport(_time.GetUtcNow(), TimeSpan.Zero, [], [], [], 0,
                    [new SyncProblem(SyncProblemKind.PublishFailed, _syncer.Target, $"{ex.GetType().Name}: {ex.Message}")]));
            }

            var failures = _state.Current.ConsecutiveFailures;
            var delay = SyncSchedule.NextDelay(_options.IntervalValue, failures, Random.Shared.NextDouble());
            ModelSyncLog.NextSync(_logger, delay.TotalSeconds, failures);
            try
            {
                await Task.Delay(delay, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
