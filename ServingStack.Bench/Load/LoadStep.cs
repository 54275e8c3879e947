namespace ServingStack.Bench.Load;

/// <summary>One step of a run: how many workers, for how long, and at most how many measured requests.</summary>
public sealed record LoadStep(int Concurrency, TimeSpan Warmup, TimeSpan Duration, long MaxRequests);
