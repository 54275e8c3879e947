namespace ServingStack.ServiceDefaults;

/// <summary>
/// Client-supplied text (model, target and input names, labels, paths) as a server or the gateway may echo it in an error
/// message, a log line or a gRPC trailer: cut to a bounded length, so a client cannot make us send back or log megabytes of
/// its own input.
/// </summary>
public static class ClientText
{
    /// <summary>The most characters of a client's string that an error message repeats.</summary>
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
