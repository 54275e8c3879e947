namespace ServingStack.ModelSync.Sync;

/// <summary>The outcome of the latest sync passes, for health checks; safe to read from any thread.</summary>
public sealed class SyncState
{
    private Snapshot _current = new(null, null, 0);

    /// <summary>The latest report, the time of the latest successful pass, and how many passes in a row failed.</summary>
    public sealed record Snapshot(SyncReport? LastReport, DateTimeOffset? LastSuccess, int ConsecutiveFailures);

    public Snapshot Current => Volatile.Read(ref _current);

    public void Record(SyncReport report)
    {
        var previous = Current;
        Volatile.Write(ref _current, report.Succeeded
            ? new Snapshot(report, report.Finished, 0)
            : new Snapshot(report, previous.LastSuccess, previous.ConsecutiveFailures + 1));
    }
}
