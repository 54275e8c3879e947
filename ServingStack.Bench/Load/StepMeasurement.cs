namespace ServingStack.Bench.Load;

/// <summary>What one step measured.</summary>
public sealed class StepMeasurement
{
    public required LoadStep Step { get; init; }

    /// <summary>Measured requests answered, failed ones included.</summary>
    public required long Requests { get; init; }

    /// <summary>Measured requests that failed.</summary>
    public required long Errors { get; init; }

    /// <summary>Rows carried by successful measured requests.</summary>
    public required long Rows { get; init; }

    /// <summary>From the end of the warm-up to the last measured answer.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Latencies of successful measured requests.</summary>
    public required LatencyHistogram Latency { get; init; }

    /// <summary>Failed measured requests by kind.</summary>
    public required IReadOnlyDictionary<string, long> ErrorsByKind { get; init; }

    /// <summary>Whether the step stopped at --max-requests before its duration ended.</summary>
    public required bool HitMaxRequests { get; init; }

    /// <summary>Whether Ctrl+C stopped it.</summary>
    public required bool Interrupted { get; init; }

    /// <summary>
    /// This process's CPU time over the whole step (warm-up included) per request answered in it: what the load tool
    /// itself costs per request, which on a small box is taken from the server it measures.
    /// </summary>
    public TimeSpan ClientCpuPerRequest { get; init; }

    public double RequestsPerSecond => Elapsed > TimeSpan.Zero ? (Requests - Errors) / Elapsed.TotalSeconds : 0;

    public double RowsPerSecond => Elapsed > TimeSpan.Zero ? Rows / Elapsed.TotalSeconds : 0;
}
