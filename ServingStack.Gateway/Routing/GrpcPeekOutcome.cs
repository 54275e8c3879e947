namespace ServingStack.Gateway.Routing;

public enum GrpcPeekOutcome
{
    /// <summary>The model was read.</summary>
    Found,

    /// <summary>The message names no model the gateway can read (none, compressed, beyond the peek limit).</summary>
    NotPresent,

    /// <summary>More bytes are needed.</summary>
    NeedMore,

    /// <summary>The frame or a field the gateway reads breaks the wire format (a length past the message end...).</summary>
    Malformed,
}
