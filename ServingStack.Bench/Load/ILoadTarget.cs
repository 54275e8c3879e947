namespace ServingStack.Bench.Load;

/// <summary>What a closed-loop worker calls: one request (or one in-process inference) per call.</summary>
public interface ILoadTarget
{
    /// <summary>Rows (dim 0) each successful request carries, for rows/s.</summary>
    int RowsPerRequest { get; }

    /// <summary>
    /// True when <see cref="SendAsync"/> does its work synchronously (in-process inference): each worker then gets a
    /// thread of its own instead of blocking the thread pool.
    /// </summary>
    bool RunsSynchronously { get; }

    /// <summary>
    /// Sends one request as worker <paramref name="worker"/> (0 ≤ worker &lt; concurrency; a worker never overlaps
    /// itself, so per-worker buffers are safe) and reports how it ended. Expected failures are returned, not thrown;
    /// cancellation through <paramref name="cancellationToken"/> is thrown.
    /// </summary>
    ValueTask<RequestOutcome> SendAsync(int worker, CancellationToken cancellationToken);
}
