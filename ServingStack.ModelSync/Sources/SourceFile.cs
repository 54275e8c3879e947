namespace ServingStack.ModelSync.Sources;

/// <summary>One file a source lists: <paramref name="Path"/> is <c>{model}/{version}/{file}</c> with '/' separators.</summary>
/// <param name="Path">Path relative to the source root, '/'-separated.</param>
/// <param name="Size">Size in bytes the source announces.</param>
/// <param name="Checksum">Digest known at listing time (the HTTP index's SHA-256); a source may add one when the file is opened.</param>
public sealed record SourceFile(string Path, long Size, ExpectedChecksum? Checksum = null)
{
    /// <summary>Where the source finds it: an S3 key, a URL, a full path.</summary>
    public string Location { get; init; } = Path;

    /// <summary>False while a folder source sees the file (or its version) still changing.</summary>
    public bool Settled { get; init; } = true;

    /// <summary>
    /// Why the source refuses this entry (a link leading out of a folder source, a listing without a size), or null.
    /// Its version fails with this message; an entry above the version level (a model folder) is reported alone.
    /// </summary>
    public string? Problem { get; init; }
}
