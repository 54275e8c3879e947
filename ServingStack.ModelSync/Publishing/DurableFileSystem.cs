using System.ComponentModel;
using System.Runtime.InteropServices;

namespace ServingStack.ModelSync.Publishing;

/// <summary>
/// fsync for directories, which .NET has no API for: after a rename, the directory entry itself must reach the disk,
/// or a crash can lose a version that was already announced as published (files use <c>Flush(true)</c>).
/// </summary>
public static partial class DurableFileSystem
{
    private const int ReadOnly = 0;

    /// <summary>Flushes a directory's entries to disk. A no-op on Windows, where NTFS journals renames itself.</summary>
    public static void FlushDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = Open(path, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"could not open directory {path} to flush it: {new Win32Exception(Marshal.GetLastPInvokeError()).Message}");
        }

        try
        {
            if (FSync(fd) != 0)
            {
                var error = Marshal.GetLastPInvokeError();

                // Some file systems (and some container overlays) cannot fsync a directory; the data itself is flushed.
                if (error is not (22 /* EINVAL */ or 95 /* EOPNOTSUPP */))
                {
                    throw new IOException($"fsync of directory {path} failed: {new Win32Exception(error).Message}");
                }
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Flushes <paramref name="root"/> and every directory below it, deepest first.</summary>
    public static void FlushTree(string root)
    {
        foreach (var dir in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
        {
            FlushDirectory(dir);
        }

        FlushDirectory(root);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FSync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
