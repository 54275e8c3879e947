using ServingStack.ModelSync.Sync;

namespace ServingStack.ModelSync.Publishing;

/// <summary>The result of publishing one version: published at <see cref="Path"/>, or the problem that stopped it.</summary>
public sealed record PublishOutcome(string? Path, long BytesDownloaded, SyncProblem? Problem)
{
    public bool Published => Problem is null;
}
