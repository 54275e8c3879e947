namespace ServingStack.ModelSync.Hosting;

/// <summary>Exit codes of <c>--once</c> (and of a start that fails).</summary>
public static class ModelSyncExitCodes
{
    /// <summary>The repository holds every wanted version, verified.</summary>
    public const int Complete = 0;

    /// <summary>The sync ran but the repository is incomplete: a checksum or size mismatch, an unreachable source...</summary>
    public const int Incomplete = 1;

    /// <summary>The configuration is invalid; nothing was done.</summary>
    public const int InvalidConfiguration = 2;
}
