namespace ServingStack.ModelSync.Sources;

/// <summary>A source could not be listed or read; the message is meant for the operator.</summary>
public sealed class ModelSourceException : Exception
{
    public ModelSourceException()
    {
    }

    public ModelSourceException(string message)
        : base(message)
    {
    }

    public ModelSourceException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Worth retrying: a dropped connection, a 5xx or 429 answer; not a refusal that would repeat.</summary>
    public bool IsTransient { get; init; }
}
