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
}
