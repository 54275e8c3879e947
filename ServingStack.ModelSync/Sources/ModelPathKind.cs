namespace ServingStack.ModelSync.Sources;

/// <summary>What a source path turned out to be.</summary>
public enum ModelPathKind
{
    /// <summary>A file of a model version: <c>{model}/{version}/{file}</c>.</summary>
    VersionFile,

    /// <summary>Not part of a model version (an index file, a non-numeric folder such as <c>latest</c>); skipped.</summary>
    Ignored,

    /// <summary>Under a model version, but a name that cannot be written safely (<c>..</c>, empty segments); the version fails.</summary>
    Unsafe,
}
