namespace ServingStack.ModelSync.Sync;

/// <summary>What one sync pass did. Complete (<see cref="Succeeded"/>) when it found no problem at all.</summary>
public sealed record SyncReport(
    DateTimeOffset Finished,
    TimeSpan Elapsed,
    IReadOnlyList<string> Published,
    IReadOnlyList<string> Present,
    IReadOnlyList<string> Removed,
    long BytesDownloaded,
    IReadOnlyList<SyncProblem> Problems)
{
    public bool Succeeded => Problems.Count == 0;

    /// <summary>
    /// Every model the source lists has at least one version in the target after the pass, and the source could be
    /// listed: the server has something to load for each, even when a version failed (readiness turns Degraded, not 503).
    /// </summary>
    public bool Serviceable { get; init; }
}
