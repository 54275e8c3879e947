using System.Globalization;
using System.Text;

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
            if (UnsafeName(segment) is { } why)
            {
                reason = $"unsafe file name '{Display(path)}': {why}";
                return ModelPathKind.Unsafe;
            }
        }

        return ModelPathKind.VersionFile;
    }

    /// <summary>"model/version" when <paramref name="path"/> starts with a model and a version folder.</summary>
    public static bool TryParseVersionFolder(string path, out string model, out long version)
    {
        var segments = path.Split('/');
        model = segments[0];
        version = 0;
        return segments.Length >= 2 && IsValidModelName(model) && TryParseVersion(segments[1], out version);
    }

    /// <summary>A path as it may be shown in a message: control characters escaped, cut to a readable length.</summary>
    public static string Display(string path) => SourceText.Display(path, 200);

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Why one segment below a version folder cannot be written safely and portably, or null.</summary>
    private static string? UnsafeName(string segment) => segment switch
    {
        "" => "an empty segment",
        "." or ".." => $"a '{segment}' segment",
        _ when segment.Contains('\\', StringComparison.Ordinal) => "a '\\' in a name",
        _ when segment.Any(char.IsControl) => "a control character in a name",
        _ when !IsWellFormed(segment) => "a name that is not valid Unicode (a lone surrogate)",
        _ when Encoding.UTF8.GetByteCount(segment) > SourceLimits.MaxNameBytes => $"a name longer than {SourceLimits.MaxNameBytes} bytes",
        _ => null,
    };
}
