namespace ServingStack.ModelSync.Sources;

/// <summary>
/// A folder laid out as the repository (a mounted volume, an NFS share). A file counts only once it is settled: its
/// size and modification time, and the set of files in its version, are the same in two listings
/// <see cref="SettleTime"/> apart, so a version still being copied in is not published half-written. Files are hashed
/// (SHA-256) while they are copied, and a file that changes during the copy fails the version.
/// </summary>
public sealed class FileSystemModelSource : IModelSource
{
    private readonly string _root;
    private readonly TimeProvider _time;

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
            })
            .ToList();
    }

    public Task<OpenedSourceFile> OpenAsync(SourceFile file, CancellationToken cancellationToken)
    {
        FileStream stream;
        FileInfo before;
        try
        {
            stream = new FileStream(file.Location, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                BufferSize = 0,
            });
            before = new FileInfo(file.Location);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelSourceException($"opening {file.Location} failed: {ex.Message}", ex);
        }

        var size = before.Length;
        var written = before.LastWriteTimeUtc;
        return Task.FromResult(new OpenedSourceFile(stream)
        {
            Length = size,
            Confirm = _ =>
            {
                var after = new FileInfo(file.Location);
                return ValueTask.FromResult(!after.Exists || after.Length != size || after.LastWriteTimeUtc != written
                    ? $"{file.Location} changed while it was copied"
                    : null);
            },
        });
    }

    public void Dispose()
    {
    }

    private Dictionary<string, (long Size, DateTime Written)> Scan()
    {
        if (!Directory.Exists(_root))
        {
            throw new ModelSourceException($"source folder {_root} does not exist");
        }

        var files = new Dictionary<string, (long, DateTime)>(StringComparer.Ordinal);
        try
        {
            foreach (var modelDir in new DirectoryInfo(_root).EnumerateDirectories())
            {
                if (!ModelFilePath.IsValidModelName(modelDir.Name))
                {
                    continue;
                }

                foreach (var versionDir in modelDir.EnumerateDirectories())
                {
                    if (!ModelFilePath.TryParseVersion(versionDir.Name, out _))
                    {
                        continue;
                    }

                    var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false };
                    foreach (var file in versionDir.EnumerateFiles("*", options))
                    {
                        var relative = Path.GetRelativePath(_root, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
                        files[relative] = (file.Length, file.LastWriteTimeUtc);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ModelSourceException($"listing source folder {_root} failed: {ex.Message}", ex);
        }

        return files;
    }

    private static string VersionPrefix(string path)
    {
        var first = path.IndexOf('/', StringComparison.Ordinal);
        var second = path.IndexOf('/', first + 1);
        return path[..second];
    }
}
