namespace ServingStack.Gateway.Splits;

/// <summary>Automatic rollback: a canary that is worse than stable for consecutive windows loses its weight.</summary>
public sealed class CanaryAnalysisOptions
{
    public bool Enabled { get; set; } = true;

    public int WindowSeconds { get; set; } = 10;

    /// <summary>A window counts only when the canary served at least this many requests in it.</summary>
    public int MinRequests { get; set; } = 20;

    /// <summary>Unhealthy windows in a row that trigger the rollback.</summary>
    public int ConsecutiveWindows { get; set; } = 3;

    /// <summary>Unhealthy when the canary's error rate exceeds stable's by more than this (0.05 = 5 points).</summary>
    public double ErrorRateMargin { get; set; } = 0.05;

    /// <summary>Unhealthy when the canary's p99 latency exceeds stable's times this factor.</summary>
    public double LatencyFactor { get; set; } = 2.0;
}
