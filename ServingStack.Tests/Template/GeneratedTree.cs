namespace ServingStack.Tests.Template;

/// <summary>Reads a generated solution's files: its file list (without build outputs) and what its text files say.</summary>
public static class GeneratedTree
{
    private static readonly HashSet<string> BuildFolders = new(StringComparer.OrdinalIgnoreCase) { "bin", "obj", "TestResults" };

    /// <summary>Relative paths with '/' separators, sorted; bin, obj and TestResults folders left out.</summary>
    public static IReadOnlyList<string> Files(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(f => !f.Split('/').SkipLast(1).Any(BuildFolders.Contains))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>A file is binary when its first 8 KB hold a NUL byte (what git and grep decide by, too).</summary>
    public static bool IsBinary(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> head = stackalloc byte[8192];
        var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return head[..read].Contains((byte)0);
    }

    /// <summary>"path:line: text" for every line of every text file that contains <paramref name="word"/>, any case.</summary>
    public static IReadOnlyList<string> LinesContaining(string root, IEnumerable<string> files, string word) =>
        files.Where(f => !IsBinary(Path.Combine(root, f)))
            .SelectMany(f => File.ReadLines(Path.Combine(root, f))
                .Select((text, index) => (text, index))
                .Where(l => l.text.Contains(word, StringComparison.OrdinalIgnoreCase))
                .Select(l => $"{f}:{l.index + 1}: {l.text.Trim()}"))
            .ToList();
}
