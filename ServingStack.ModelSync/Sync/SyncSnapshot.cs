namespace ServingStack.ModelSync.Sync;

/// <summary>
/// The latest report, the time of the latest successful pass, how many passes in a row failed, and the time of the
/// latest pass that left every listed model with a version (<see cref="SyncReport.Serviceable"/>, or successful).
/// </summary>
public sealed record SyncSnapshot(SyncReport? LastReport, DateTimeOffset? LastSuccess, int ConsecutiveFailures, DateTimeOffset? LastServiceable = null);
