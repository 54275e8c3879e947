using System.Diagnostics;
using System.Net.Http;

namespace ServingStack.Bench.Load;

/// <summary>
/// Runs one step as a closed loop: <see cref="LoadStep.Concurrency"/> workers each send a request, wait for its answer
/// and send the next, first for the warm-up (not recorded), then for the duration. A request is measured when it
/// starts after the warm-up; no request starts after the duration or beyond --max-requests, so every loop ends.
/// Per-request timeouts are enforced by one watchdog per step, not by a timer or deadline per request: a deadline is
/// sent to the server (gRPC's grpc-timeout) and makes both sides arm a timer per call, work that a plain client does
/// not cause and that would be measured as the server's.
/// </summary>
public sealed class ClosedLoopRunner
{
    private readonly ILoadTarget _target;
    private readonly LoadStep _step;
    private readonly Worker[] _workers;
    private long _startTimestamp;
    private long _measureStart;
    private long _measureEnd;
    private long _tickets;
    private volatile bool _started;
    private volatile bool _finished;

    public ClosedLoopRunner(ILoadTarget target, LoadStep step)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(step);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step.Concurrency);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(step.MaxRequests);
        _target = target;
        _step = step;
        _workers = new Worker[step.Concurrency];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Worker();
        }
    }

    /// <summary>Progress so far; safe to call from another thread while the step runs.</summary>
    public LoadSnapshot Snapshot()
    {
        var planned = _step.Warmup + _step.Duration;
        if (!_started)
        {
            return new LoadSnapshot(LoadPhase.WarmingUp, TimeSpan.Zero, planned, 0, 0, 0);
        }

        var now = Stopwatch.GetTimestamp();
        long requests = 0, errors = 0, warmup = 0;
        foreach (var worker in _workers)
        {
            requests += Volatile.Read(ref worker.Completed);
            errors += Volatile.Read(ref worker.Failed);
            warmup += Volatile.Read(ref worker.WarmupCompleted);
        }

        var phase = _finished ? LoadPhase.Done
            : now < _measureStart ? LoadPhase.WarmingUp
            : now < _measureEnd ? LoadPhase.Measuring
            : LoadPhase.Draining;
        return new LoadSnapshot(phase, Stopwatch.GetElapsedTime(_startTimestamp, now), planned, requests, errors, warmup);
    }

    public async Task<StepMeasurement> RunAsync(CancellationToken cancellationToken)
    {
        var cpuBefore = Environment.CpuUsage.TotalTime;
        _startTimestamp = Stopwatch.GetTimestamp();
        _measureStart = _startTimestamp + ToTimestampTicks(_step.Warmup);
        _measureEnd = _measureStart + ToTimestampTicks(_step.Duration);
        _started = true;

        using var watchdogStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        foreach (var worker in _workers)
        {
            worker.Renew(cancellationToken);
        }

        var watchdog = _step.RequestTimeout == Timeout.InfiniteTimeSpan ? Task.CompletedTask : WatchdogAsync(watchdogStop.Token);
        var tasks = new Task[_workers.Length];
        for (var i = 0; i < tasks.Length; i++)
        {
            var index = i;
            tasks[i] = _target.RunsSynchronously
                ? Task.Factory.StartNew(
                    () => WorkerLoopAsync(index, cancellationToken).AsTask().GetAwaiter().GetResult(),
                    CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)
                : Task.Run(() => WorkerLoopAsync(index, cancellationToken).AsTask(), CancellationToken.None);
        }

        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        finally
        {
            _finished = true;
            await watchdogStop.CancelAsync().ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
            foreach (var worker in _workers)
            {
                worker.Dispose();
            }
        }

        var cpu = Environment.CpuUsage.TotalTime - cpuBefore;
        var latency = new LatencyHistogram();
        var errorsByKind = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long requests = 0, errors = 0, warmups = 0, lastCompletion = 0;
        var hitMax = false;
        foreach (var worker in _workers)
        {
            latency.Add(worker.Latency);
            requests += worker.Completed;
            errors += worker.Failed;
            warmups += worker.WarmupCompleted;
            lastCompletion = Math.Max(lastCompletion, worker.LastCompletion);
            hitMax |= worker.HitMaxRequests;
            foreach (var (kind, count) in worker.ErrorsByKind)
            {
                errorsByKind[kind] = errorsByKind.GetValueOrDefault(kind) + count;
            }
        }

        return new StepMeasurement
        {
            Step = _step,
            Requests = requests,
            Errors = errors,
            Rows = (requests - errors) * _target.RowsPerRequest,
            Elapsed = lastCompletion > _measureStart ? Stopwatch.GetElapsedTime(_measureStart, lastCompletion) : TimeSpan.Zero,
            Latency = latency,
            ErrorsByKind = errorsByKind,
            HitMaxRequests = hitMax,
            Interrupted = cancellationToken.IsCancellationRequested,
            ClientCpuPerRequest = requests + warmups > 0 ? cpu / (requests + warmups) : TimeSpan.Zero,
        };
    }

    /// <summary>Names an unexpected exception for the error counts; the message is not part of the kind.</summary>
    public static string DescribeException(Exception exception) => exception switch
    {
        HttpRequestException { HttpRequestError: not HttpRequestError.Unknown } http => $"HttpRequestException ({http.HttpRequestError})",
        TimeoutException or TaskCanceledException => "timeout",
        _ => exception.GetType().Name,
    };

    private static long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static long ToNanoseconds(long timestampTicks) => Stopwatch.Frequency == 1_000_000_000
        ? timestampTicks
        : (long)(timestampTicks * (1e9 / Stopwatch.Frequency));

    private async ValueTask WorkerLoopAsync(int index, CancellationToken cancellationToken)
    {
        var worker = _workers[index];
        while (!cancellationToken.IsCancellationRequested)
        {
            var begin = Stopwatch.GetTimestamp();
            if (begin >= _measureEnd)
            {
                break;
            }

            var measured = begin >= _measureStart;
            if (measured && Interlocked.Increment(ref _tickets) > _step.MaxRequests)
            {
                worker.HitMaxRequests = true;
                break;
            }

            if (worker.Token.IsCancellationRequested)
            {
                worker.Renew(cancellationToken);
            }

            RequestOutcome outcome;
            Volatile.Write(ref worker.InFlightSince, begin);
            try
            {
                outcome = await _target.SendAsync(index, worker.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException) when (worker.Token.IsCancellationRequested)
            {
                outcome = RequestOutcome.Failed("timeout");
            }
            catch (Exception ex)
            {
                outcome = RequestOutcome.Failed(DescribeException(ex));
            }

            var end = Stopwatch.GetTimestamp();
            Volatile.Write(ref worker.InFlightSince, 0);
            if (!measured)
            {
                Volatile.Write(ref worker.WarmupCompleted, worker.WarmupCompleted + 1);
                continue;
            }

            if (outcome.IsSuccess)
            {
                worker.Latency.Record(ToNanoseconds(end - begin));
            }
            else
            {
                worker.ErrorsByKind[outcome.ErrorKind!] = worker.ErrorsByKind.GetValueOrDefault(outcome.ErrorKind!) + 1;
                Volatile.Write(ref worker.Failed, worker.Failed + 1);
            }

            worker.LastCompletion = end;
            Volatile.Write(ref worker.Completed, worker.Completed + 1);
        }
    }

    /// <summary>Cancels the token of every worker whose request has run longer than the step's timeout.</summary>
    private async Task WatchdogAsync(CancellationToken stop)
    {
        var limit = ToTimestampTicks(_step.RequestTimeout);
        var period = TimeSpan.FromTicks(Math.Clamp(_step.RequestTimeout.Ticks / 10, TimeSpan.TicksPerMillisecond, TimeSpan.TicksPerSecond / 4));
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var worker in _workers)
                {
                    var since = Volatile.Read(ref worker.InFlightSince);
                    if (since != 0 && now - since > limit)
                    {
                        worker.CancelCurrent();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One worker's counters, written only by that worker; totals are read with Volatile.</summary>
    private sealed class Worker : IDisposable
    {
        private CancellationTokenSource? _requests;
        public readonly LatencyHistogram Latency = new();
        public readonly Dictionary<string, long> ErrorsByKind = new(StringComparer.Ordinal);
        public long Completed;
        public long Failed;
        public long WarmupCompleted;
        public long LastCompletion;
        public bool HitMaxRequests;

        /// <summary>When the request in flight started (Stopwatch ticks); 0 between requests.</summary>
        public long InFlightSince;

        /// <summary>The token its requests run under: the run's, plus the watchdog's cancel.</summary>
        public CancellationToken Token { get; private set; }

        /// <summary>A fresh token after a timeout cancelled the last one (or before the first request).</summary>
        public void Renew(CancellationToken run)
        {
            var previous = _requests;
            _requests = CancellationTokenSource.CreateLinkedTokenSource(run);
            Token = _requests.Token;
            previous?.Dispose();
        }

        public void CancelCurrent()
        {
            try
            {
                _requests?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The worker renewed its token meanwhile: that request is over.
            }
        }

        public void Dispose() => _requests?.Dispose();
    }
}
