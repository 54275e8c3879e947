namespace ServingStack.ModelSync.Sources;

/// <summary>
/// A folder laid out as the repository (a mounted volume, an NFS share). A file counts only once it is settled: its
/// size and modification time, and the set of files in its version, are the same in two listings
/// <see cref="SettleTime"/> apart, so a version still being copied in is not published half-written. Files are hashed
/// (SHA-256) while they are copied, and a file that changes during the copy fails the version.
/// Symbolic links are followed only while they stay inside the source: a link (to a file or a folder, at any level)
/// that leads out of it, or nowhere, is refused by name and its version fails; the check is made again on the file
/// actually opened. Only regular files are read (a FIFO would block a reader forever).
/// </summary>
public sealed class FileSystemModelSource : IModelSource
{
    private readonly string _root;
    private readonly TimeProvider _time;
    private string? _realRoot;

    public FileSystemModelSource(string root, TimeSpan settleTime, TimeProvider? time = null)
    {
        _root = Path.GetFullPath(root);
        SettleTime = settleTime;
        _time = time ?? TimeProvider.System;
        Description = _root;
    }

    /// <summary>How long apart the two listings are taken.</summary>
    public TimeSpan SettleTime { get; }

    public string Description { get; }

    public async Task<IReadOnlyList<SourceFile>> ListAsync(CancellationToken cancellationToken)
    {
        var first = Scan();
        if (SettleTime > TimeSpan.Zero)
        {
            await Task.Delay(SettleTime, _time, cancellationToken);
        }

        var second = Scan();

        // A version is settled when its files, their sizes and their times are the same in both listings.
        var unsettledVersions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, stamp) in second)
        {
            if (!first.TryGetValue(path, out var before) || before != stamp)
            {
                unsettledVersions.Add(VersionPrefix(path));
            }
        }

        foreach (var path in first.Keys.Where(p => !second.ContainsKey(p)))
        {
            unsettledVersions.Add(VersionPrefix(path));
        }

        return second
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => new SourceFile(e.Key, e.Value.Size)
            {
                Location = Path.Combine(_root, e.Key.Replace('/', Path.DirectorySeparatorChar)),
                Settled = !unsettledVersions.Contains(VersionPrefix(e.Key)),
                Problem = e.Value.Problem,
            })
            .ToList();
    }

    public Task<OpenedSourceFile> OpenAsync(SourceFile file, CancellationToken cancellationToken)
    {
        FileStream stream;
        try
        {
            stream = LocalFiles.OpenRead(file.Location);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelSourceException($"opening {file.Location} failed: {ex.Message}", ex);
        }

        long size;
        DateTime written;
        try
        {
            // The file actually opened, not the path: a link swapped after the listing is caught here.
            var realRoot = _realRoot ?? LocalFiles.Resolve(_root);
            var opened = LocalFiles.RealPathOf(stream.SafeFileHandle) ?? LocalFiles.Resolve(file.Location);
            if (realRoot is null || opened is null || !LocalFiles.IsSameOrInside(opened, realRoot))
            {
                throw new ModelSourceException($"{file.Location} leads to {opened ?? "a path that cannot be resolved"}, outside the source; links are never followed out of the source");
            }

            size = RandomAccess.GetLength(stream.SafeFileHandle);
            written = File.GetLastWriteTimeUtc(stream.SafeFileHandle);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stream.Dispose();
            throw new ModelSourceException($"reading {file.Location} failed: {ex.Message}", ex);
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return Task.FromResult(new OpenedSourceFile(stream)
        {
            Length = size,
            Confirm = _ =>
            {
                // The open file (rewritten in place) and what the path leads to (replaced by another file) must both be unchanged.
                var after = new FileInfo(LocalFiles.Resolve(file.Location) ?? file.Location);
                var changed = RandomAccess.GetLength(stream.SafeFileHandle) != size || File.GetLastWriteTimeUtc(stream.SafeFileHandle) != written ||
                    !after.Exists || after.Length != size || after.LastWriteTimeUtc != written;
                return ValueTask.FromResult(changed ? $"{file.Location} changed while it was copied" : null);
            },
        });
    }

    public void Dispose()
    {
    }

    /// <summary>Every file of every version by '/'-separated path, with its size and time, or the reason it is refused.</summary>
    private Dictionary<string, Entry> Scan()
    {
        if (!Directory.Exists(_root))
        {
            throw new ModelSourceException($"source folder {_root} does not exist");
        }

        var realRoot = LocalFiles.Resolve(_root) ?? throw new ModelSourceException($"source folder {_root} cannot be resolved");
        _realRoot = realRoot;
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        try
        {
            foreach (var modelDir in new DirectoryInfo(_root).EnumerateDirectories())
            {
                if (!ModelFilePath.IsValidModelName(modelDir.Name) || Follow(modelDir, modelDir.Name, realRoot, entries) is not DirectoryInfo model)
                {
                    continue;
                }

                var realModel = LocalFiles.Resolve(model.FullName) ?? model.FullName;
                foreach (var versionDir in model.EnumerateDirectories())
                {
                    var relative = $"{modelDir.Name}/{versionDir.Name}";
                    if (ModelFilePath.TryParseVersion(versionDir.Name, out _) && Follow(versionDir, relative, realRoot, entries) is DirectoryInfo version)
                    {
                        // A link back to the version, its model or the root would list the repository inside itself.
                        HashSet<string> above = [realRoot, realModel, LocalFiles.Resolve(version.FullName) ?? version.FullName];
                        Walk(version, relative, realRoot, entries, above, depth: 0);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelSourceException($"listing source folder {_root} failed: {ex.Message}", ex);
        }

        return entries;
    }

    /// <summary>The files below one folder of a version; <paramref name="ancestors"/> (resolved) catches link cycles.</summary>
    private static void Walk(DirectoryInfo folder, string relative, string realRoot, Dictionary<string, Entry> entries, HashSet<string> ancestors, int depth)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = false, AttributesToSkip = 0, IgnoreInaccessible = false };
        foreach (var entry in folder.EnumerateFileSystemInfos("*", options))
        {
            if (entries.Count >= SourceLimits.MaxFiles)
            {
                throw new ModelSourceException(SourceLimits.TooManyFiles($"source folder {realRoot}"));
            }

            var path = $"{relative}/{entry.Name}";
            switch (Follow(entry, path, realRoot, entries))
            {
                case DirectoryInfo directory:
                    var real = LocalFiles.Resolve(directory.FullName) ?? directory.FullName;
                    if (depth + 1 >= SourceLimits.MaxDepth || !ancestors.Add(real))
                    {
                        entries[path] = Entry.Refused($"{path} leads back into a folder above it (a link cycle) or is nested deeper than {SourceLimits.MaxDepth} levels");
                        break;
                    }

                    Walk(directory, path, realRoot, entries, ancestors, depth + 1);
                    ancestors.Remove(real);
                    break;
                case FileInfo file:
                    entries[path] = new Entry(file.Length, file.LastWriteTimeUtc, null);
                    break;
            }
        }
    }

    /// <summary>
    /// The entry itself, or for a symbolic link what it leads to when that lies inside the source; null (with the
    /// reason recorded under <paramref name="path"/>) for a link that leads out of the source or nowhere.
    /// </summary>
    private static FileSystemInfo? Follow(FileSystemInfo entry, string path, string realRoot, Dictionary<string, Entry> entries)
    {
        if (entry.LinkTarget is not { } link)
        {
            return entry;
        }

        var real = LocalFiles.Resolve(entry.FullName);
        if (real is null)
        {
            entries[path] = Entry.Refused($"{path} is a symbolic link to {link}, which does not exist or loops");
            return null;
        }

        if (!LocalFiles.IsSameOrInside(real, realRoot))
        {
            var shown = string.Equals(link, real, StringComparison.Ordinal) ? link : $"{link} ({real})";
            entries[path] = Entry.Refused($"{path} is a symbolic link to {shown}, outside the source; links are never followed out of the source");
            return null;
        }

        return Directory.Exists(real) ? new DirectoryInfo(real) : new FileInfo(real);
    }

    /// <summary>"model/version" of a path; the path itself for a model-level entry.</summary>
    private static string VersionPrefix(string path)
    {
        var first = path.IndexOf('/', StringComparison.Ordinal);
        var second = first < 0 ? -1 : path.IndexOf('/', first + 1);
        return second < 0 ? path : path[..second];
    }

    private readonly record struct Entry(long Size, DateTime Written, string? Problem)
    {
        public static Entry Refused(string problem) => new(0, default, problem);
    }
}
