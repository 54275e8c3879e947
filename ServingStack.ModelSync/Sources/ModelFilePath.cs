using System.Globalization;

namespace ServingStack.ModelSync.Sources;

/// <summary>
/// A source path split into <c>{model}/{version}/{file}</c>. Only positive integer version folders count, as in the
/// server's repository; model names are <c>[A-Za-z0-9_][A-Za-z0-9_.-]*</c>, so <c>.staging</c> is never a model.
/// </summary>
public readonly record struct ModelFilePath(string Model, long Version, string VersionFolder, string File)
{
    /// <summary>"model/version", for messages.</summary>
    public string VersionKey => VersionName(Model, Version);

    public static string VersionName(string model, long version) => string.Create(CultureInfo.InvariantCulture, $"{model}/{version}");

    public static bool IsValidModelName(string name) =>
        name.Length > 0 && name[0] is not ('.' or '-') && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');

    /// <summary>A version folder name the server loads: a positive integer.</summary>
    public static bool TryParseVersion(string name, out long version) =>
        long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version > 0;

    public static ModelPathKind Classify(string path, out ModelFilePath file, out string? reason)
    {
        file = default;
        reason = null;
        var segments = path.Split('/');
        if (segments.Length < 3 || !IsValidModelName(segments[0]) || !TryParseVersion(segments[1], out var version))
        {
            reason = "not under {model}/{version}/ with a numeric version";
            return ModelPathKind.Ignored;
        }

        file = new ModelFilePath(segments[0], version, segments[1], string.Join('/', segments.Skip(2)));
        foreach (var segment in segments.Skip(2))
        {
            if (segment.Length == 0 || segment is "." or ".." || segment.Contains('\\', StringComparison.Ordinal) ||
                segment.Contains('\0', StringComparison.Ordinal))
            {
                reason = $"unsafe file name '{path}' (empty, '.', '..' or '\\' segments)";
                return ModelPathKind.Unsafe;
            }
        }

        return ModelPathKind.VersionFile;
    }
}
