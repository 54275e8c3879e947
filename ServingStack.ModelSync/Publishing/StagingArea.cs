using System.Security.Cryptography;

namespace ServingStack.ModelSync.Publishing;

/// <summary>
/// <c>{target}/.staging</c>: where versions are downloaded before their one atomic rename into
/// <c>{target}/{model}/{version}</c>, on the same file system as the repository. The server only scans numeric folders
/// under each model, so it never sees anything here. The area is locked (<c>.staging/.lock</c>) while a sync process
/// owns it, so two processes never publish into one repository, and everything else in it is stale and removed when
/// a process takes it over (a run killed mid-download leaves its partial version here).
/// </summary>
public sealed class StagingArea : IDisposable
{
    public const string FolderName = ".staging";
    public const string LockFileName = ".lock";

    private FileStream? _lock;

    public StagingArea(string target)
    {
        Target = Path.GetFullPath(target);
        Root = Path.Combine(Target, FolderName);
    }

    public string Target { get; }

    public string Root { get; }

    /// <summary>Creates the repository and staging folders, takes the lock, and removes stale staging; returns what it removed.</summary>
    /// <exception cref="IOException">Another process holds the lock, or the folders cannot be created.</exception>
    public IReadOnlyList<string> Open()
    {
        if (_lock is not null)
        {
            return [];
        }

        Directory.CreateDirectory(Target);
        var created = !Directory.Exists(Root);
        Directory.CreateDirectory(Root);
        if (created)
        {
            DurableFileSystem.FlushDirectory(Target);
        }

        var lockPath = Path.Combine(Root, LockFileName);
        try
        {
            // FileShare.None is an advisory flock on Unix: released by the kernel when the holder dies, even by SIGKILL.
            _lock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"another model sync process is publishing into {Target} (it holds {lockPath})", ex);
        }

        var removed = new List<string>();
        foreach (var entry in new DirectoryInfo(Root).EnumerateFileSystemInfos())
        {
            if (entry.Name == LockFileName)
            {
                continue;
            }

            Delete(entry.FullName);
            removed.Add(entry.FullName);
        }

        return removed;
    }

    /// <summary>A new, empty folder <c>.staging/{model}/{version}.{id}</c> to download a version into.</summary>
    public string CreateVersionFolder(string model, long version)
    {
        EnsureOpen();
        var path = Path.Combine(Root, model, $"{version}.{NewId()}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>A path in the staging area to move a retired version to before it is deleted.</summary>
    public string RetiredPath(string model, long version)
    {
        EnsureOpen();
        var folder = Path.Combine(Root, model);
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, $"{version}.{NewId()}.retired");
    }

    /// <summary>Removes <c>.staging/{model}</c> once nothing of that model is staged any more.</summary>
    public void Tidy(string model)
    {
        var folder = Path.Combine(Root, model);
        try
        {
            if (Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
        catch (IOException)
        {
            // Something was staged meanwhile, or it is already gone.
        }
    }

    /// <summary>Deletes a file or folder tree; a failure is left for the next start's cleanup.</summary>
    public static bool Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    private void EnsureOpen()
    {
        if (_lock is null)
        {
            throw new InvalidOperationException("the staging area is not open");
        }
    }

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
}
