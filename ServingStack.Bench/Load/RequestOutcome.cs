namespace ServingStack.Bench.Load;

/// <summary>How one request ended: success, or the kind of error ("HTTP 503", "gRPC Unavailable", "timeout", ...).</summary>
public readonly record struct RequestOutcome(string? ErrorKind)
{
    public static RequestOutcome Success => default;

    public bool IsSuccess => ErrorKind is null;

    public static RequestOutcome Failed(string kind) => new(kind);
}
