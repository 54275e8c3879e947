namespace ServingStack.Gateway.Security;

/// <summary>
/// Client-supplied text (model and target names, paths) as the gateway may repeat it in an error or a log line: cut to
/// a bounded length, so that a client cannot make the gateway send back or log megabytes of its own input.
/// </summary>
public static class ClientText
{
    /// <summary>The most characters of a client's string that the gateway repeats.</summary>
    public const int MaxEchoedLength = 256;

    public static string Cut(string? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        return value.Length <= MaxEchoedLength
            ? value
            : string.Concat(value.AsSpan(0, MaxEchoedLength), $"... ({value.Length} characters)");
    }
}
