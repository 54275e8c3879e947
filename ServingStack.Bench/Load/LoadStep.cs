namespace ServingStack.Bench.Load;

/// <summary>
/// One step of a run: how many workers, for how long, at most how many measured requests, and how long one request may
/// take before the step's watchdog cancels it (<see cref="Timeout.InfiniteTimeSpan"/>: never).
/// </summary>
public sealed record LoadStep(int Concurrency, TimeSpan Warmup, TimeSpan Duration, long MaxRequests)
{
    public TimeSpan RequestTimeout { get; init; } = Timeout.InfiniteTimeSpan;
}
