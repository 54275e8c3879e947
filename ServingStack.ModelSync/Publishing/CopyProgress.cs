namespace ServingStack.ModelSync.Publishing;

/// <summary>When to log a large file's progress: each time it crosses another tenth of its size.</summary>
public sealed class CopyProgress
{
    /// <summary>Files smaller than this are not worth progress lines.</summary>
    public const long LargeFileBytes = 16L * 1024 * 1024;

    private readonly long _total;
    private int _lastTenth;

    public CopyProgress(long total)
    {
        _total = total;
    }

    public bool IsLarge => _total >= LargeFileBytes;

    /// <summary>The percentage to report when <paramref name="bytes"/> crossed a new 10% step (10, 20 ... 90), else null.</summary>
    public int? Advance(long bytes)
    {
        if (!IsLarge || bytes >= _total)
        {
            return null;
        }

        var tenth = (int)(bytes * 10 / _total);
        if (tenth <= _lastTenth)
        {
            return null;
        }

        _lastTenth = tenth;
        return tenth * 10;
    }
}
