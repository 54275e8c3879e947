namespace ServingStack.Gateway.Routing;

/// <summary>
/// <c>Gateway:Resilience</c>: the health-check defaults given to every proxy cluster that has none of its own, and the
/// one retry of a request whose connect to a destination failed.
/// </summary>
public sealed class ResilienceOptions
{
    public const string SectionName = "Gateway:Resilience";

    /// <summary>Give clusters without a <c>HealthCheck</c> (or without its Active/Passive part) our defaults.</summary>
    public bool HealthCheckDefaults { get; set; } = true;

    /// <summary>The readiness probe path on each destination.</summary>
    public string ActivePath { get; set; } = "/ready";

    public TimeSpan ActiveInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan ActiveTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a destination ejected by passive checks (consecutive transport failures) stays out.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Re-send a request whose forwarding failed before any response once, to another healthy destination.</summary>
    public bool RetryConnectFailures { get; set; } = true;

    /// <summary>
    /// Bodies of requests safe to repeat are copied as they are forwarded, up to this size, so that one cut off before
    /// any answer can be re-sent; beyond it (and for other requests) only a request that never reached a destination is.
    /// </summary>
    public long MaxReplayBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Passive health: a destination is ejected (for <see cref="ReactivationPeriod"/>) after this many transport failures
    /// in a row on its side (refused connect, reset, timeout); an answer resets the count, and a client's own failures
    /// (cancels, broken uploads) do not count.
    /// </summary>
    public int PassiveConsecutiveFailures { get; set; } = 3;
}
