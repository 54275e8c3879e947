using System.Globalization;
using ServingStack.ModelSync.Sources;

namespace ServingStack.ModelSync.Publishing;

/// <summary>Reads the server's repository as the server does: model folders holding numeric version folders.</summary>
public static class TargetRepository
{
    /// <summary>model → version → folder, for every valid model name and positive integer version folder.</summary>
    public static Dictionary<string, SortedDictionary<long, string>> Scan(string target)
    {
        var models = new Dictionary<string, SortedDictionary<long, string>>(StringComparer.Ordinal);
        if (!Directory.Exists(target))
        {
            return models;
        }

        foreach (var modelDir in Directory.EnumerateDirectories(target))
        {
            var model = Path.GetFileName(modelDir);
            if (!ModelFilePath.IsValidModelName(model))
            {
                continue;
            }

            var versions = new SortedDictionary<long, string>();
            foreach (var versionDir in Directory.EnumerateDirectories(modelDir))
            {
                if (ModelFilePath.TryParseVersion(Path.GetFileName(versionDir), out var version))
                {
                    versions[version] = versionDir;
                }
            }

            models[model] = versions;
        }

        return models;
    }

    /// <summary>Why a published version does not match the source's listing (a missing file, another size), or null when it does.</summary>
    public static string? Compare(string versionFolder, SourceVersion version)
    {
        var problems = new List<string>();
        foreach (var file in version.Files)
        {
            var info = new FileInfo(Path.Combine(versionFolder, file.RelativePath.Replace('/', Path.DirectorySeparatorChar)));
            if (!info.Exists)
            {
                problems.Add($"{file.RelativePath} is missing");
            }
            else if (info.Length != file.File.Size)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{file.RelativePath} is {info.Length} bytes, the source lists {file.File.Size}"));
            }
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }
}
