using System.Globalization;

namespace ServingStack.Inference.Repository;

/// <summary>What a version folder looks like on disk, cheaply: file count, total size and newest write time.</summary>
internal static class VersionFolder
{
    public static string Stamp(string path)
    {
        long count = 0, bytes = 0, newest = 0;
        try
        {
            foreach (var file in new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                count++;
                bytes += file.Length;
                newest = Math.Max(newest, file.LastWriteTimeUtc.Ticks);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unreadable";
        }

        return string.Create(CultureInfo.InvariantCulture, $"{count}:{bytes}:{newest}");
    }
}
