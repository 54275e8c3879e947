using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Batching;

/// <summary>
/// Turns many small requests to one model version into fewer, larger ONNX Runtime runs. Requests wait in a bounded
/// queue per distinct non-batch shape; a batch thread takes a batch when its queue holds <c>max_batch_size</c> rows or
/// its oldest request has waited <c>batch_timeout_micros</c>, stacks the rows (one copy), pads to an allowed size,
/// runs, and hands every caller a view of its own rows of the outputs (no copy). Critical sections only move queue
/// entries; inputs are copied and the model runs outside the lock, and threads are woken after it is released (Triton's
/// habits). A thread is woken only when there is something for it: a queue turned non-empty or full, the oldest
/// request's delay expired (one timer per batcher, not one per request), or a run ended with work left. A request that
/// finds the queue empty and a batch slot free, and would be sent at once anyway, runs on its caller's thread: no hop.
/// </summary>
public sealed class DynamicBatcher : IDisposable
{
    [ThreadStatic]
    private static List<BatchItem>? t_inlineBatch;

    private readonly Func<IReadOnlyList<InferenceTensor>, IReadOnlyList<TensorSpec>, InferenceTensor[]> _run;
    private readonly BatchingOptions _options;
    private readonly ServingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TagList _tags;
    private readonly string _description;
    private readonly object _gate = new();
    private readonly List<ShapeQueue> _queues = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ITimer _timer;
    private readonly Thread[] _threads;
    private readonly long _timeoutTicks;
    private readonly int _capacityRows;
    private readonly IDisposable _queueTracking;
    private int _queuedRows;

    // Guarded by _gate: batches running (on batch threads or inline on a caller), at most num_batch_threads; batch
    // threads parked or about to park; wake-ups released and not yet taken; when the timer is due (long.MaxValue: unarmed).
    private int _running;
    private int _idle;
    private int _signals;
    private long _timerDue = long.MaxValue;
    private volatile bool _stopping;
    private volatile bool _flushing;

    public DynamicBatcher(OnnxModelSession session, BatchingOptions options, ServingMetrics metrics, string model, long version)
        : this(session.Run, options, metrics, model, version, TimeProvider.System)
    {
    }

    /// <summary>
    /// The batcher over any run function and clock: tests drive the batch timeout with a fake clock and hold a run
    /// to fill the queue.
    /// </summary>
    internal DynamicBatcher(
        Func<IReadOnlyList<InferenceTensor>, IReadOnlyList<TensorSpec>, InferenceTensor[]> run, BatchingOptions options, ServingMetrics metrics, string model, long version, TimeProvider time)
    {
        _run = run;
        _options = options.Clone();
        _metrics = metrics;
        _time = time;
        var versionText = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _tags = new TagList { { "model", model }, { "version", versionText } };
        _description = $"model '{model}' version {versionText}";
        _timeoutTicks = _options.BatchTimeoutMicros * time.TimestampFrequency / 1_000_000;
        _capacityRows = checked(_options.MaxEnqueuedBatches * _options.MaxBatchSize);
        _queueTracking = metrics.TrackQueue(model, versionText, () => Volatile.Read(ref _queuedRows));
        _timer = time.CreateTimer(static state => ((DynamicBatcher)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _threads = new Thread[_options.NumBatchThreads];
        for (var i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(RunBatches) { IsBackground = true, Name = $"batch {model}/{versionText} #{i}" };
            _threads[i].Start();
        }
    }

    public BatchingOptions Options => _options;

    /// <summary>Rows waiting in the queue (the queue-depth metric).</summary>
    public int QueuedRows => Volatile.Read(ref _queuedRows);

    /// <summary>Sends every queued request now and from here on without waiting for fuller batches (shutdown drain).</summary>
    public void Flush()
    {
        _flushing = true;
        WakeAll();
    }

    /// <summary>Only models whose every input and output has a variable dimension 0 can be batched.</summary>
    public static bool CanBatch(OnnxModelSession session)
    {
        foreach (var spec in session.Inputs)
        {
            if (!spec.HasVariableBatch)
            {
                return false;
            }
        }

        foreach (var spec in session.Outputs)
        {
            if (!spec.HasVariableBatch)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Queues validated inputs (in model order) and waits for this request's rows. The caller keeps ownership of the
    /// inputs, which stay in use until this returns.
    /// </summary>
    public async ValueTask<InferenceOutcome> SubmitAsync(InferenceTensor[] inputs, IReadOnlyList<TensorSpec> outputs, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var rows = inputs[0].Shape[0];
        for (var i = 1; i < inputs.Length; i++)
        {
            if (inputs[i].Shape[0] != rows)
            {
                return InferenceOutcome.Failed(ServingError.InvalidArgument(
                    $"inputs '{inputs[0].Name}' and '{inputs[i].Name}' have different batch sizes ({rows} and {inputs[i].Shape[0]}); dimension 0 must agree"));
            }
        }

        if (rows == 0)
        {
            return InferenceOutcome.Failed(ServingError.InvalidArgument($"input '{inputs[0].Name}' has no rows (dimension 0 is 0)"));
        }

        if (rows <= _options.MaxBatchSize)
        {
            var item = new BatchItem(inputs, outputs, (int)rows, _time.GetTimestamp());
            var admitted = TryEnqueueOrRunHere(item);
            if (admitted is not null)
            {
                return InferenceOutcome.Failed(admitted);
            }

            return item.Completion.IsCompleted ? item.Completion.Result : await WaitAsync(item, timeout, cancellationToken);
        }

        if (!_options.EnableLargeBatchSplitting)
        {
            return InferenceOutcome.Failed(ServingError.InvalidArgument(
                $"the request has {rows} rows but {_description} takes at most max_batch_size = {_options.MaxBatchSize} rows per request"));
        }

        // A split request is queued whole, so one larger than the whole queue could never be: refuse it for what it is
        // (a client error) rather than as a full queue, which a retry would never fix.
        if (rows > _capacityRows)
        {
            return InferenceOutcome.Failed(ServingError.InvalidArgument(
                $"the request has {rows} rows but the batch queue of {_description} holds at most max_enqueued_batches × max_batch_size = {_capacityRows} rows, so it can never be queued; send at most {_capacityRows} rows per request"));
        }

        return await SubmitSplitAsync(inputs, outputs, rows, timeout, cancellationToken);
    }

    /// <summary>A request larger than max_batch_size runs as several batches; its outputs are stacked back in order.</summary>
    private async ValueTask<InferenceOutcome> SubmitSplitAsync(InferenceTensor[] inputs, IReadOnlyList<TensorSpec> outputs, long rows, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var chunkCount = (int)((rows + _options.MaxBatchSize - 1) / _options.MaxBatchSize);
        var items = new BatchItem[chunkCount];
        var now = _time.GetTimestamp();
        for (var c = 0; c < chunkCount; c++)
        {
            var start = (long)c * _options.MaxBatchSize;
            var count = Math.Min(_options.MaxBatchSize, rows - start);
            var slices = new InferenceTensor[inputs.Length];
            for (var i = 0; i < inputs.Length; i++)
            {
                // Views over the caller's buffers: the chunks are read while the caller waits here, never written.
                slices[i] = TensorRows.View(inputs[i], start, count);
            }

            items[c] = new BatchItem(slices, outputs, (int)count, now);
        }

        var results = new InferenceOutcome[chunkCount];
        try
        {
            if (TryEnqueue(items, (int)rows) is { } refused)
            {
                return InferenceOutcome.Failed(refused);
            }

            for (var c = 0; c < chunkCount; c++)
            {
                results[c] = await WaitAsync(items[c], timeout, cancellationToken);
            }

            foreach (var result in results)
            {
                if (result.Error is not null)
                {
                    return InferenceOutcome.Failed(result.Error);
                }
            }

            var stacked = new InferenceTensor[outputs.Count];
            for (var o = 0; o < stacked.Length; o++)
            {
                var first = results[0].Outputs![o];
                var shape = (long[])first.Shape.Clone();
                shape[0] = rows;
                stacked[o] = InferenceTensor.AllocateUninitialized(first.Name, first.DataType, shape);
                var row = 0L;
                foreach (var result in results)
                {
                    TensorRows.CopyInto(result.Outputs![o], stacked[o], row);
                    row += result.Outputs![o].Shape[0];
                }
            }

            return new InferenceOutcome(stacked, null);
        }
        finally
        {
            foreach (var result in results)
            {
                DisposeAll(result.Outputs);
            }

            foreach (var item in items)
            {
                DisposeAll(item.Inputs);
            }
        }
    }

    private async ValueTask<InferenceOutcome> WaitAsync(BatchItem item, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        if (timeout is null && !cancellationToken.CanBeCanceled)
        {
            return await item.Completion;
        }

        try
        {
            return await item.Completion.WaitAsync(timeout ?? Timeout.InfiniteTimeSpan, _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            if (item.TryAbandon())
            {
                return InferenceOutcome.Failed(new ServingError(ServingErrorCode.DeadlineExceeded,
                    $"the request waited {timeout!.Value.TotalMilliseconds:F0} ms in the batch queue of {_description} and was not run"));
            }

            // Already running: its inputs are in use, so wait for it; the result is still worth returning.
            return await item.Completion;
        }
        catch (OperationCanceledException)
        {
            if (!item.TryAbandon())
            {
                DisposeAll((await item.Completion).Outputs);
            }

            return InferenceOutcome.Failed(new ServingError(ServingErrorCode.Cancelled, "the client cancelled the request"));
        }
    }

    /// <summary>
    /// Runs <paramref name="item"/> on the caller's thread when nothing is queued, a batch slot is free and the item would be
    /// sent at once anyway (no batch timeout, or a full batch by itself); otherwise queues it. Null: admitted (and, if run
    /// here, already completed).
    /// </summary>
    private ServingError? TryEnqueueOrRunHere(BatchItem item)
    {
        bool runHere;
        lock (_gate)
        {
            runHere = !_stopping && _queuedRows == 0 && _running < _options.NumBatchThreads && (_timeoutTicks == 0 || item.Rows >= _options.MaxBatchSize);
            if (runHere)
            {
                _running++;
            }
        }

        if (!runHere)
        {
            return TryEnqueue([item], item.Rows);
        }

        item.TryTake();
        var batch = t_inlineBatch ??= new List<BatchItem>(1);
        batch.Add(item);
        try
        {
            Execute(batch);
        }
        finally
        {
            batch.Clear();
            FinishRun();
        }

        return null;
    }

    /// <summary>Queues the items (one request's, all in one queue) or says why not; wakes a thread only when one has work.</summary>
    private ServingError? TryEnqueue(BatchItem[] items, int rows)
    {
        int wake;
        lock (_gate)
        {
            if (_stopping)
            {
                return new ServingError(ServingErrorCode.Unavailable, $"{_description} is unloading; its batch queue takes no new requests");
            }

            if (_queuedRows + rows > _capacityRows)
            {
                return QueueFull();
            }

            var queue = FindQueue(items[0]);
            var wasEmpty = queue.Items.Count == 0;
            var rowsBefore = queue.Rows;
            foreach (var item in items)
            {
                queue.Items.Enqueue(item);
            }

            queue.Rows += rows;
            _queuedRows += rows;

            // Nothing new for a thread unless the queue just started (a thread must take it or time it) or just filled.
            var fullBatches = queue.Rows / _options.MaxBatchSize - rowsBefore / _options.MaxBatchSize;
            wake = wasEmpty || fullBatches > 0 ? SignalLocked(Math.Max(1, fullBatches)) : 0;
        }

        if (wake > 0)
        {
            _wake.Release(wake);
        }

        return null;
    }

    /// <summary>Counts up to <paramref name="wanted"/> wake-ups for parked threads that no earlier wake-up covers; returns how many to release.</summary>
    private int SignalLocked(int wanted)
    {
        var count = Math.Min(wanted, _idle - _signals);
        if (count <= 0)
        {
            return 0;
        }

        _signals += count;
        return count;
    }

    /// <summary>A run ended: its slot is free, so a parked thread may take what is queued.</summary>
    private void FinishRun()
    {
        int wake;
        lock (_gate)
        {
            _running--;
            wake = _queuedRows > 0 ? SignalLocked(1) : 0;
        }

        if (wake > 0)
        {
            _wake.Release(wake);
        }
    }

    private void OnTimer()
    {
        int wake;
        lock (_gate)
        {
            _timerDue = long.MaxValue;
            wake = SignalLocked(1);
        }

        if (wake > 0)
        {
            _wake.Release(wake);
        }
    }

    private void WakeAll()
    {
        int wake;
        lock (_gate)
        {
            wake = SignalLocked(_threads.Length);
        }

        if (wake > 0)
        {
            _wake.Release(wake);
        }
    }

    private ShapeQueue FindQueue(BatchItem item)
    {
        foreach (var queue in _queues)
        {
            if (queue.Items.TryPeek(out var head) && head.IsCompatible(item))
            {
                return queue;
            }
        }

        // Reuse an emptied queue before growing the list: shapes come and go.
        foreach (var queue in _queues)
        {
            if (queue.Items.Count == 0)
            {
                return queue;
            }
        }

        var created = new ShapeQueue();
        _queues.Add(created);
        return created;
    }

    private ServingError QueueFull() => new(ServingErrorCode.ResourceExhausted,
        $"the batch queue of {_description} is full ({QueuedRows} rows waiting, limit max_enqueued_batches × max_batch_size = {_capacityRows}); retry later");

    private void RunBatches()
    {
        var batch = new List<BatchItem>(_options.MaxBatchSize);
        var parked = false;
        while (true)
        {
            var exit = false;
            lock (_gate)
            {
                if (parked)
                {
                    // Every wake-up of a parked thread was counted in _signals (Release only follows SignalLocked).
                    _idle--;
                    _signals--;
                    parked = false;
                }

                var wait = TakeBatch(batch);
                if (batch.Count > 0)
                {
                    _running++;
                }
                else if (_stopping && _queuedRows == 0)
                {
                    exit = true;
                }
                else
                {
                    _idle++;
                    parked = true;
                    if (wait > 0)
                    {
                        ArmTimerLocked(wait);
                    }
                }
            }

            if (batch.Count > 0)
            {
                try
                {
                    Execute(batch);
                }
                finally
                {
                    batch.Clear();
                    FinishRun();
                }

                continue;
            }

            if (exit)
            {
                return;
            }

            _wake.Wait();
        }
    }

    /// <summary>Makes sure the timer fires within <paramref name="wait"/> timestamp ticks (one timer serves every queue).</summary>
    private void ArmTimerLocked(long wait)
    {
        var due = _time.GetTimestamp() + wait;
        if (due >= _timerDue)
        {
            return;
        }

        _timerDue = due;
        _timer.Change(TimeSpan.FromTicks(Math.Max(1, wait * TimeSpan.TicksPerSecond / _time.TimestampFrequency)), Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Fills <paramref name="batch"/> from the readiest queue when a batch slot is free; otherwise returns how long until
    /// one is ready (-1: nothing to time, a wake-up will come).
    /// </summary>
    private long TakeBatch(List<BatchItem> batch)
    {
        var now = _time.GetTimestamp();
        ShapeQueue? ready = null;
        var readySince = long.MaxValue;
        var wait = -1L;
        foreach (var queue in _queues)
        {
            // Requests whose callers gave up leave without running.
            while (queue.Items.TryPeek(out var head) && head.IsAbandoned)
            {
                queue.Items.Dequeue();
                queue.Rows -= head.Rows;
                _queuedRows -= head.Rows;
            }

            if (!queue.Items.TryPeek(out var oldest))
            {
                continue;
            }

            var age = now - oldest.EnqueuedAt;
            if (_flushing || _stopping || age >= _timeoutTicks || queue.Rows >= _options.MaxBatchSize)
            {
                if (oldest.EnqueuedAt < readySince)
                {
                    ready = queue;
                    readySince = oldest.EnqueuedAt;
                }
            }
            else
            {
                var remaining = _timeoutTicks - age;
                wait = wait < 0 ? remaining : Math.Min(wait, remaining);
            }
        }

        // Every slot busy (batch threads and callers running lone requests): the run that ends wakes a thread.
        if (ready is null || _running >= _options.NumBatchThreads)
        {
            return ready is null ? wait : -1;
        }

        var rows = 0;
        while (ready.Items.TryPeek(out var next) && rows + next.Rows <= _options.MaxBatchSize)
        {
            ready.Items.Dequeue();
            ready.Rows -= next.Rows;
            _queuedRows -= next.Rows;
            if (next.TryTake())
            {
                batch.Add(next);
                rows += next.Rows;
            }
        }

        return 0;
    }

    private void Execute(List<BatchItem> batch)
    {
        var started = _time.GetTimestamp();
        var rows = 0;
        foreach (var item in batch)
        {
            rows += item.Rows;
            _metrics.RecordQueueWait(_tags, _time.GetElapsedTime(item.EnqueuedAt, started));
        }

        var padded = _options.PaddedSize(rows);
        var first = batch[0];
        using var activity = StartActivity(batch, rows, padded);
        // A lone request that needs no padding runs on its own buffers: no copy in, no copy out.
        var direct = batch.Count == 1 && padded == rows;
        var inputs = direct ? first.Inputs : Stack(batch, padded);
        InferenceTensor[]? outputs = null;
        try
        {
            outputs = _run(inputs, first.Outputs);
            _metrics.RecordBatch(_tags, rows, padded, _time.GetElapsedTime(started));
            _metrics.RecordBatchedRequests(_tags, batch);
            foreach (var output in outputs)
            {
                if (output.Shape.Length == 0 || output.Shape[0] != padded)
                {
                    Fail(batch, new ServingError(ServingErrorCode.FailedPrecondition,
                        $"{_description}: output '{output.Name}' has shape {ShapeText.Format(output.Shape)}, not one row per input row, so it cannot be batched; turn batching off for this model"));
                    return;
                }
            }

            if (direct)
            {
                first.Complete(new InferenceOutcome(outputs, null));
                outputs = null;
                return;
            }

            var row = 0L;
            foreach (var item in batch)
            {
                var own = new InferenceTensor[outputs.Length];
                for (var o = 0; o < own.Length; o++)
                {
                    // A view of the batch's output: each caller's rows without a second copy.
                    own[o] = TensorRows.View(outputs[o], row, item.Rows);
                }

                item.Complete(new InferenceOutcome(own, null));
                row += item.Rows;
            }
        }
        catch (OnnxRuntimeException ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Fail(batch, new ServingError(OnnxRuntimeErrors.Classify(ex), $"inference failed on {_description}: {ex.Message}"));
        }
        catch (Exception ex)
        {
            // A batch thread must never die and strand its callers.
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            Fail(batch, new ServingError(ServingErrorCode.Internal, $"inference failed on {_description}: {ex.GetType().Name}: {ex.Message}"));
        }
        finally
        {
            DisposeAll(outputs);
            if (!direct)
            {
                DisposeAll(inputs);
            }
        }
    }

    /// <summary>
    /// One span per batch, a child of its oldest request's span (so a trace reads gateway → server → batch) and linked to
    /// every other request it carries. Nothing is allocated when no one listens.
    /// </summary>
    private Activity? StartActivity(List<BatchItem> batch, int rows, int padded)
    {
        if (!ServingTracing.Source.HasListeners())
        {
            return null;
        }

        List<ActivityLink>? links = null;
        for (var i = 1; i < batch.Count; i++)
        {
            if (batch[i].Caller != default)
            {
                (links ??= []).Add(new ActivityLink(batch[i].Caller));
            }
        }

        var activity = ServingTracing.Source.StartActivity("batch", ActivityKind.Internal, batch[0].Caller, _tags, links);
        activity?.SetTag("batch.requests", batch.Count);
        activity?.SetTag("batch.rows", rows);
        activity?.SetTag("batch.padded_rows", padded);
        return activity;
    }

    private static InferenceTensor[] Stack(List<BatchItem> batch, int padded)
    {
        var template = batch[0].Inputs;
        var stacked = new InferenceTensor[template.Length];
        for (var i = 0; i < stacked.Length; i++)
        {
            var shape = (long[])template[i].Shape.Clone();
            shape[0] = padded;
            stacked[i] = InferenceTensor.AllocateUninitialized(template[i].Name, template[i].DataType, shape);
            var row = 0L;
            foreach (var item in batch)
            {
                TensorRows.CopyInto(item.Inputs[i], stacked[i], row);
                row += item.Rows;
            }

            // Padding rows are zeros: only they need clearing, every other byte was just written.
            var rowBytes = (int)(TensorRows.RowElements(shape) * template[i].DataType.ElementSize());
            stacked[i].Bytes[(int)(row * rowBytes)..].Clear();

            if (stacked[i].Strings is { } strings)
            {
                for (var s = 0; s < strings.Length; s++)
                {
                    strings[s] ??= string.Empty;
                }
            }
        }

        return stacked;
    }

    private static void Fail(List<BatchItem> batch, ServingError error)
    {
        foreach (var item in batch)
        {
            item.Complete(InferenceOutcome.Failed(error));
        }
    }

    private static void DisposeAll(InferenceTensor[]? tensors)
    {
        if (tensors is null)
        {
            return;
        }

        foreach (var tensor in tensors)
        {
            tensor?.Dispose();
        }
    }

    /// <summary>Stops the batch threads once the queue is empty; called when the version unloads (no caller is left).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
        }

        WakeAll();
        foreach (var thread in _threads)
        {
            thread.Join();
        }

        _timer.Dispose();
        _queueTracking.Dispose();
        _wake.Dispose();
    }

    /// <summary>The requests of one non-batch shape, oldest first, and their rows (abandoned ones included until dropped).</summary>
    private sealed class ShapeQueue
    {
        public Queue<BatchItem> Items { get; } = new();

        public int Rows { get; set; }
    }
}
