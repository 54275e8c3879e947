namespace ServingStack.ModelSync.Sync;

/// <summary>The latest report, the time of the latest successful pass, and how many passes in a row failed.</summary>
public sealed record SyncSnapshot(SyncReport? LastReport, DateTimeOffset? LastSuccess, int ConsecutiveFailures);
