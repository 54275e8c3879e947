namespace ServingStack.ModelSync.Sync;

/// <summary>
/// How a listing or a file download that failed in a way a later try may not (a stall, a dropped connection, a 5xx
/// or 429) is tried again within one pass: <see cref="Attempts"/> tries, waiting 1 s, then 2 s (doubling) between them.
/// </summary>
public static class TransientRetry
{
    public const int Attempts = 3;

    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    /// <summary>The wait after try <paramref name="attempt"/> failed (1-based).</summary>
    public static TimeSpan DelayAfter(int attempt) => FirstDelay * Math.Pow(2, Math.Clamp(attempt - 1, 0, 16));
}
