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

    /// <summary>How long a destination ejected by passive checks (transport failure rate) stays out.</summary>
    public TimeSpan ReactivationPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Re-send a request whose forwarding failed before any response once, to another healthy destination.</summary>
    public bool RetryConnectFailures { get; set; } = true;

    /// <summary>Bodies up to this size (by Content-Length) are buffered so that a retry can replay them; larger ones are not retried.</summary>
    public long MaxReplayBodyBytes { get; set; } = 1024 * 1024;
}
