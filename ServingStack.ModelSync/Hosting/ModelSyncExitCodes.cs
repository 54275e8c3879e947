namespace ServingStack.ModelSync.Hosting;

/// <summary>Exit codes of <c>--once</c>; <see cref="InvalidConfiguration"/> also ends a polling sidecar that cannot start.</summary>
public static class ModelSyncExitCodes
{
    /// <summary>The repository holds every wanted version, verified.</summary>
    public const int Complete = 0;

    /// <summary>The sync ran but the repository is incomplete: a checksum or size mismatch, an unreachable source...</summary>
    public const int Incomplete = 1;

    /// <summary>
    /// The configuration is invalid (every problem on stderr, no stack trace); nothing was done. Not 1 like the other
    /// services' configuration errors: for the sync, 1 already means "ran, but incomplete", which a retry may fix.
    /// </summary>
    public const int InvalidConfiguration = 2;
}
