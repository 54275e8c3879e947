using ServingStack.ModelSync.Sources;

namespace ServingStack.ModelSync.Publishing;

/// <summary>One model version as the source lists it: its files, each with its path inside the version folder.</summary>
public sealed record SourceVersion(string Model, long Version, IReadOnlyList<SourceVersionFile> Files)
{
    public string Key => ModelFilePath.VersionName(Model, Version);

    public long TotalBytes => Files.Sum(f => f.File.Size);

    public bool Settled => Files.All(f => f.File.Settled);
}
