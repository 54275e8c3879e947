namespace ServingStack.ModelSync.Sources;

/// <summary>Bounds on what a source may list, so a wrong or hostile one cannot exhaust memory or loop forever.</summary>
public static class SourceLimits
{
    /// <summary>Entries one listing may hold (objects, index entries, files); a model repository has far fewer.</summary>
    public const int MaxFiles = 100_000;

    /// <summary>Pages of an S3 listing (1,000 keys each when the store honours it).</summary>
    public const int MaxPages = 10_000;

    /// <summary>Folder depth inside a version.</summary>
    public const int MaxDepth = 32;

    /// <summary>The longest file or folder name most file systems accept, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 255;

    public static string TooManyFiles(string description) =>
        $"{description} lists more than {MaxFiles} entries; point the source at the model repository itself";
}
