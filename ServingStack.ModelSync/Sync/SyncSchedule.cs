namespace ServingStack.ModelSync.Sync;

/// <summary>
/// When the next pass runs. After a success: the interval, ±<see cref="Jitter"/> so that many replicas polling one
/// bucket spread out. After failures: exponential backoff from <see cref="FirstRetry"/> doubling up to
/// <see cref="MaxBackoff"/>, with the same jitter (and never later than the interval would have been, when that is
/// sooner, because a failing pass should be retried at least as often as a healthy one polls).
/// </summary>
public static class SyncSchedule
{
    /// <summary>Relative spread of every delay: ±20%.</summary>
    public const double Jitter = 0.2;

    public static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>The delay before the next pass without jitter.</summary>
    public static TimeSpan BaseDelay(TimeSpan interval, int consecutiveFailures)
    {
        if (consecutiveFailures <= 0)
        {
            return interval;
        }

        // 2^(n-1) overflows nothing: the exponent is capped well before doubles lose the cap.
        var backoff = FirstRetry * Math.Pow(2, Math.Min(consecutiveFailures - 1, 30));
        var capped = backoff > MaxBackoff ? MaxBackoff : backoff;
        return capped < interval ? capped : interval;
    }

    /// <summary>
    /// The delay before the next pass: <see cref="BaseDelay"/> scaled by a factor in [1 - Jitter, 1 + Jitter) chosen by
    /// <paramref name="unitRandom"/> in [0, 1).
    /// </summary>
    public static TimeSpan NextDelay(TimeSpan interval, int consecutiveFailures, double unitRandom)
    {
        var clamped = Math.Clamp(unitRandom, 0, 1);
        return BaseDelay(interval, consecutiveFailures) * (1 + (Jitter * ((2 * clamped) - 1)));
    }
}
