namespace ServingStack.Inference.Repository;

/// <summary>
/// tensorflow_model_server's retry rule: after a failed load, up to <c>--max_num_load_retries</c> more attempts, each
/// <c>--load_retry_interval_micros</c> after the last failure (negative: at once).
/// </summary>
internal sealed class LoadRetryPolicy(int maxRetries, long intervalMicros)
{
    // Task.Delay takes at most ~24.8 days; a longer interval is as good as never within one process.
    private static readonly long s_maxMicros = (long)TimeSpan.FromDays(24).TotalMicroseconds;

    public int MaxRetries { get; } = maxRetries;

    /// <summary>How long to wait after the <paramref name="failedAttempts"/>-th failure in a row; null: no retries left.</summary>
    public TimeSpan? DelayAfter(int failedAttempts) =>
        failedAttempts > MaxRetries ? null : TimeSpan.FromMicroseconds(Math.Clamp(intervalMicros, 0, s_maxMicros));
}
