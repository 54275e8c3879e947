using System.Diagnostics;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>
/// One version of a model and its session. Reference-counted: the repository holds one "base" reference while the
/// version is served and every request holds one while it runs, so a retired version unloads only after its last
/// request ends. States move by compare-and-swap, so of two paths that race to retire a version exactly one wins and
/// releases the base reference; the count reaches zero once, and the unload runs once, on the background unloader.
/// </summary>
public sealed class ModelVersion
{
    private readonly Action<ModelVersion>? _onUnloaded;
    private readonly ModelVersionUnloader? _unloader;
    private int _references = 1;
    private int _state = (int)ModelVersionState.Start;
    private int _unloaded;
    private volatile string? _error;
    private OnnxModelSession? _session;
    private DynamicBatcher? _batcher;

    public ModelVersion(string modelName, long version, string path, Action<ModelVersion>? onUnloaded = null)
        : this(modelName, version, path, onUnloaded, unloader: null)
    {
    }

    /// <param name="unloader">Where the unload runs once the last reference goes; null runs it on the releasing thread.</param>
    public ModelVersion(string modelName, long version, string path, Action<ModelVersion>? onUnloaded, ModelVersionUnloader? unloader)
    {
        ModelName = modelName;
        Version = version;
        Path = path;
        _onUnloaded = onUnloaded;
        _unloader = unloader;
    }

    public string ModelName { get; }

    public long Version { get; }

    /// <summary>The version's folder.</summary>
    public string Path { get; }

    public ModelVersionState State => (ModelVersionState)Volatile.Read(ref _state);

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

    /// <summary>How many references are held now (the base one included); for tests and diagnostics.</summary>
    internal int References => Volatile.Read(ref _references);

    private bool TryMove(ModelVersionState from, ModelVersionState to) =>
        Interlocked.CompareExchange(ref _state, (int)to, (int)from) == (int)from;

    /// <summary>START → LOADING; false when the version already left START (it was abandoned).</summary>
    internal bool MarkLoading() => TryMove(ModelVersionState.Start, ModelVersionState.Loading);

    /// <summary>
    /// LOADING → AVAILABLE with its session. False when the version is no longer LOADING: the session and batcher
    /// stay the caller's to dispose.
    /// </summary>
    internal bool MarkAvailable(OnnxModelSession session, DynamicBatcher? batcher)
    {
        // Published before the state, so whoever sees AVAILABLE sees the session.
        _session = session;
        _batcher = batcher;
        ExecutionProvider = session.ExecutionProvider;
        FallbackReason = session.FallbackReason;
        if (TryMove(ModelVersionState.Loading, ModelVersionState.Available))
        {
            return true;
        }

        _session = null;
        _batcher = null;
        return false;
    }

    /// <summary>START or LOADING → END with <paramref name="error"/>; the version never served, so nothing unloads.</summary>
    internal bool MarkFailed(string error)
    {
        _error = error;
        if (!TryMove(ModelVersionState.Loading, ModelVersionState.End) && !TryMove(ModelVersionState.Start, ModelVersionState.End))
        {
            return false;
        }

        Interlocked.Exchange(ref _references, 0);
        return true;
    }

    /// <summary>Takes a reference for one request; false unless the version is AVAILABLE.</summary>
    public bool TryAcquire()
    {
        if (State != ModelVersionState.Available)
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

    /// <summary>
    /// Gives back a reference taken with <see cref="TryAcquire"/>. The last one hands the version to the background
    /// unloader, so no request thread pays for stopping the batcher or freeing the session.
    /// </summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            if (_unloader is null || !_unloader.TryEnqueue(this))
            {
                Unload();
            }
        }
    }

    /// <summary>
    /// Stops new requests: AVAILABLE → UNLOADING, and only the caller whose swap wins releases the base reference, so
    /// concurrent retires (a reconcile and shutdown) release it once. The session is freed when the in-flight ones finish.
    /// </summary>
    internal bool Retire()
    {
        if (!TryMove(ModelVersionState.Available, ModelVersionState.Unloading))
        {
            return false;
        }

        Release();
        return true;
    }

    /// <summary>Frees the batcher and session; runs once, after the last reference (normally on the unloader).</summary>
    internal void Unload()
    {
        if (Interlocked.Exchange(ref _unloaded, 1) != 0)
        {
            return;
        }

        try
        {
            // The batcher first: its threads may still be finishing the last batch on the session.
            Interlocked.Exchange(ref _batcher, null)?.Dispose();
            var session = Interlocked.Exchange(ref _session, null);
            session?.Dispose();
            NativeMemory.TrimFreedMemory();
        }
        finally
        {
            Volatile.Write(ref _state, (int)ModelVersionState.End);
            _onUnloaded?.Invoke(this);
        }
    }
}
