using Grpc.Core;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>How the inference services end a call that failed.</summary>
public static class GrpcErrors
{
    /// <summary>
    /// The most characters a status message carries. Messages echo client strings only through
    /// <see cref="ClientText.Cut"/>; this bound is the backstop, since a status travels in an HTTP/2 trailer that
    /// clients refuse past a few kilobytes.
    /// </summary>
    public const int MaxMessageLength = 4096;

    /// <summary>The error as an <see cref="RpcException"/>: its code is the gRPC status (the numbers are gRPC's), its message REST's.</summary>
    public static RpcException ToRpcException(ServingError error) => new(new Status((StatusCode)error.Code, Bound(error.Message)));

    /// <summary>
    /// Whether the caller has given up (it cancelled, or its deadline passed): such a call ends through
    /// <see cref="EndAbandoned"/> rather than an exception, because nobody reads the answer, and a burst of expired
    /// calls should cost neither exceptions nor log lines (grpc-dotnet logs every thrown status).
    /// </summary>
    public static bool IsAbandoned(ServingError error) => error.Code is ServingErrorCode.Cancelled or ServingErrorCode.DeadlineExceeded;

    /// <summary>Ends the call with <paramref name="error"/>'s status; the empty message returned is never read.</summary>
    public static TResponse EndAbandoned<TResponse>(ServerCallContext context, ServingError error) where TResponse : new()
    {
        context.Status = new Status((StatusCode)error.Code, Bound(error.Message));
        return new TResponse();
    }

    /// <summary>
    /// The error for a call cancelled by its client: DEADLINE_EXCEEDED when its deadline was (about to be) reached,
    /// since the client resets the stream when it passes, else CANCELLED.
    /// </summary>
    public static ServingError Abandoned(GrpcCallDeadline? deadline, TimeProvider time) =>
        deadline is not null && deadline.HasExpired(time)
            ? new ServingError(ServingErrorCode.DeadlineExceeded, $"the deadline of {deadline.Budget.TotalMilliseconds:F0} ms passed before the call finished")
            : new ServingError(ServingErrorCode.Cancelled, "the client cancelled the call");

    private static string Bound(string message) =>
        message.Length <= MaxMessageLength ? message : string.Concat(message.AsSpan(0, MaxMessageLength), "...");
}
