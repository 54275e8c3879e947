namespace ServingStack.Bench.Load;

/// <summary>A step's progress, read while it runs.</summary>
/// <param name="Phase">Warming up, measuring, waiting for the last requests, or done.</param>
/// <param name="Elapsed">Time since the step started (warm-up included).</param>
/// <param name="Planned">Warm-up plus duration.</param>
/// <param name="Requests">Measured requests answered so far.</param>
/// <param name="Errors">Measured requests that failed so far.</param>
/// <param name="WarmupRequests">Requests answered during the warm-up.</param>
public readonly record struct LoadSnapshot(LoadPhase Phase, TimeSpan Elapsed, TimeSpan Planned, long Requests, long Errors, long WarmupRequests);
