using System.Globalization;

namespace ServingStack.ModelSync.Publishing;

/// <summary>A source sent a different number of bytes than it listed.</summary>
public sealed class SizeMismatchException : IOException
{
    public SizeMismatchException()
    {
    }

    public SizeMismatchException(string message)
        : base(message)
    {
    }

    public SizeMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public SizeMismatchException(long expected, long actual, bool exceeded)
        : base(exceeded
            ? string.Create(CultureInfo.InvariantCulture, $"size mismatch: listed as {expected} bytes, the source sent more")
            : string.Create(CultureInfo.InvariantCulture, $"size mismatch: listed as {expected} bytes, got {actual}"))
    {
        Expected = expected;
        Actual = actual;
    }

    public long Expected { get; }

    public long Actual { get; }
}
