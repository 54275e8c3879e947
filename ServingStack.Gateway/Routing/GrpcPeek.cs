namespace ServingStack.Gateway.Routing;

/// <summary>What the first message of a gRPC call says about its model.</summary>
/// <param name="Pinned">The call names a version or label (or, for MultiInference, more than one model): not split.</param>
/// <param name="Error">For <see cref="GrpcPeekOutcome.Malformed"/>: what is wrong, without any of the client's text.</param>
public readonly record struct GrpcPeek(GrpcPeekOutcome Outcome, string? Model, bool Pinned, string? Error)
{
    public static GrpcPeek NeedMore => new(GrpcPeekOutcome.NeedMore, null, false, null);

    public static GrpcPeek NotPresent => new(GrpcPeekOutcome.NotPresent, null, false, null);

    public static GrpcPeek Malformed(string error) => new(GrpcPeekOutcome.Malformed, null, false, error);

    public static GrpcPeek Found(string model, bool pinned) => new(GrpcPeekOutcome.Found, model, pinned, null);
}
