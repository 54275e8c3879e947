namespace ServingStack.ModelSync.Sync;

/// <summary>The outcome of the latest sync passes, for health checks; safe to read from any thread.</summary>
public sealed class SyncState
{
    private SyncSnapshot _current = new(null, null, 0);

    public SyncSnapshot Current => Volatile.Read(ref _current);

    public void Record(SyncReport report)
    {
        var previous = Current;
        var serviceable = report.Succeeded || report.Serviceable ? report.Finished : previous.LastServiceable;
        Volatile.Write(ref _current, report.Succeeded
            ? new SyncSnapshot(report, report.Finished, 0, serviceable)
            : new SyncSnapshot(report, previous.LastSuccess, previous.ConsecutiveFailures + 1, serviceable));
    }
}
