namespace ServingStack.Gateway.Security;

/// <summary>
/// <c>Gateway:RateLimit</c>: a token bucket per client (JWT <c>sub</c>, else API key name, else remote IP) on the
/// inference routes; off unless <see cref="PermitsPerSecond"/> is set.
/// </summary>
public sealed class GatewayRateLimitOptions
{
    /// <summary>Sustained requests per second per client.</summary>
    public double? PermitsPerSecond { get; set; }

    /// <summary>Bucket size: requests a client may send at once; defaults to one second's worth.</summary>
    public int? Burst { get; set; }

    /// <summary>Requests that wait for a token instead of being refused at once.</summary>
    public int QueueLimit { get; set; }

    public bool Enabled => PermitsPerSecond is > 0;
}
