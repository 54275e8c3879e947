using ServingStack.ModelSync.Sources;

namespace ServingStack.ModelSync.Publishing;

/// <summary>One model version as the source lists it: its files, each with its path inside the version folder.</summary>
public sealed record SourceVersion(string Model, long Version, IReadOnlyList<SourceVersionFile> Files)
{
    public string Key => ModelFilePath.VersionName(Model, Version);

    /// <summary>The listed sizes added up; saturates rather than overflowing when a listing claims absurd sizes.</summary>
    public long TotalBytes
    {
        get
        {
            long total = 0;
            foreach (var file in Files)
            {
                total = file.File.Size > long.MaxValue - total ? long.MaxValue : total + Math.Max(0, file.File.Size);
            }

            return total;
        }
    }

    public bool Settled => Files.All(f => f.File.Settled);
}
