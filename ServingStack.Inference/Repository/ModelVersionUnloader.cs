using System.Threading.Channels;

namespace ServingStack.Inference.Repository;

/// <summary>
/// Unloads retired versions on one long-running background thread. Stopping a version's batcher joins its threads and
/// freeing a session can take a while; done inline it would land on whichever request released the last reference
/// (on gRPC before its response is sent). Versions queue here instead and unload in the order they were released.
/// </summary>
public sealed class ModelVersionUnloader : IAsyncDisposable
{
    private readonly Channel<ModelVersion> _queue = Channel.CreateUnbounded<ModelVersion>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _logger;
    private readonly Task _worker;

    public ModelVersionUnloader(ILogger logger)
    {
        _logger = logger;
        // A dedicated thread: unloads block (thread joins, native frees) and should not hold a pool thread.
        _worker = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Queues <paramref name="version"/> for unloading; false once the unloader has completed (the caller unloads inline).</summary>
    public bool TryEnqueue(ModelVersion version) => _queue.Writer.TryWrite(version);

    /// <summary>Unloads what is queued, then stops; versions released afterwards unload on the releasing thread.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        _queue.Writer.TryComplete();
        await _worker.WaitAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => new(CompleteAsync());

    private void Run()
    {
        var reader = _queue.Reader;
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var version))
            {
                try
                {
                    version.Unload();
                }
                catch (Exception ex)
                {
                    // One version that fails to free must not stop the others from unloading.
                    ModelLifecycleLog.UnloadFailed(_logger, version.ModelName, version.Version, ex.Message);
                }
            }
        }
    }
}
