using System.Diagnostics;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>
/// One version of a model and its session. Reference-counted: the repository holds one reference while the version is
/// served and every request holds one while it runs, so a retired version unloads only after its last request ends.
/// </summary>
public sealed class ModelVersion
{
    private readonly Action<ModelVersion>? _onUnloaded;
    private int _references = 1;
    private volatile ModelVersionState _state = ModelVersionState.Start;
    private volatile string? _error;
    private OnnxModelSession? _session;
    private DynamicBatcher? _batcher;

    public ModelVersion(string modelName, long version, string path, Action<ModelVersion>? onUnloaded = null)
    {
        ModelName = modelName;
        Version = version;
        Path = path;
        _onUnloaded = onUnloaded;
    }

    public string ModelName { get; }

    public long Version { get; }

    /// <summary>The version's folder.</summary>
    public string Path { get; }

    public ModelVersionState State => _state;

    /// <summary>Why the version ended; null when it loaded (or unloaded) cleanly.</summary>
    public string? Error => _error;

    /// <summary>What the version's folder looked like when it was loaded, to notice replaced files after a failure.</summary>
    internal string? FileStamp { get; init; }

    /// <summary>Where an unbatched run reports its time (TF Serving's runtime latency); the batcher reports batched ones.</summary>
    internal ServingMetrics? Metrics { get; init; }

    /// <summary>Failed loads of these same files in a row; drives the retry backoff.</summary>
    internal int FailedAttempts { get; set; }

    /// <summary>When a failed load may be tried again.</summary>
    internal DateTimeOffset RetryAt { get; set; }

    /// <summary>The session; only valid while the caller holds a reference taken with <see cref="TryAcquire"/>.</summary>
    public OnnxModelSession Session => _session ?? throw new InvalidOperationException($"version {Version} of '{ModelName}' is {State}");

    /// <summary>The loaded session's provider and any CUDA fallback, kept after unload for status.</summary>
    public string? ExecutionProvider { get; private set; }

    public string? FallbackReason { get; private set; }

    /// <summary>
    /// Runs one request's validated inputs (in the model's input order). The caller must hold a reference and keeps
    /// ownership of the inputs; the outputs are the caller's to dispose.
    /// </summary>
    public ValueTask<InferenceOutcome> InferAsync(InferenceTensor[] orderedInputs, IReadOnlyList<TensorSpec> outputs, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (_batcher is { } batcher)
        {
            return batcher.SubmitAsync(orderedInputs, outputs, timeout, cancellationToken);
        }

        var started = Stopwatch.GetTimestamp();
        var produced = ModelInvoker.Run(Session, orderedInputs, outputs, out var error);
        if (error is null)
        {
            Metrics?.RecordRuntime(ModelName, Stopwatch.GetElapsedTime(started));
        }

        return ValueTask.FromResult(new InferenceOutcome(produced, error));
    }

    /// <summary>The version's batcher; null when batching is off or the model cannot be batched.</summary>
    public DynamicBatcher? Batcher => _batcher;

    internal void MarkLoading() => _state = ModelVersionState.Loading;

    internal void MarkAvailable(OnnxModelSession session, DynamicBatcher? batcher)
    {
        _session = session;
        _batcher = batcher;
        ExecutionProvider = session.ExecutionProvider;
        FallbackReason = session.FallbackReason;
        _state = ModelVersionState.Available;
    }

    internal void MarkFailed(string error)
    {
        _error = error;
        _state = ModelVersionState.End;
        Interlocked.Exchange(ref _references, 0);
    }

    /// <summary>Takes a reference for one request; false unless the version is AVAILABLE.</summary>
    public bool TryAcquire()
    {
        if (_state != ModelVersionState.Available)
        {
            return false;
        }

        while (true)
        {
            var current = Volatile.Read(ref _references);
            if (current <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _references, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Unload();
        }
    }

    /// <summary>Stops new requests; the session is released when the in-flight ones finish.</summary>
    internal void Retire()
    {
        if (_state != ModelVersionState.Available)
        {
            return;
        }

        _state = ModelVersionState.Unloading;
        Release();
    }

    private void Unload()
    {
        // The batcher first: its threads may still be finishing the last batch on the session.
        Interlocked.Exchange(ref _batcher, null)?.Dispose();
        var session = Interlocked.Exchange(ref _session, null);
        session?.Dispose();
        NativeMemory.TrimFreedMemory();
        _state = ModelVersionState.End;
        _onUnloaded?.Invoke(this);
    }
}
