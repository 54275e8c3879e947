using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Metrics;

/// <summary>Canonical status code names (as gRPC and TF Serving spell them) for metric labels, without allocating.</summary>
public static class StatusNames
{
    public static string Of(ServingError? error) => error is null ? "OK" : Of(error.Code);

    public static string Of(ServingErrorCode code) => code switch
    {
        ServingErrorCode.Ok => "OK",
        ServingErrorCode.Cancelled => "CANCELLED",
        ServingErrorCode.InvalidArgument => "INVALID_ARGUMENT",
        ServingErrorCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        ServingErrorCode.NotFound => "NOT_FOUND",
        ServingErrorCode.AlreadyExists => "ALREADY_EXISTS",
        ServingErrorCode.PermissionDenied => "PERMISSION_DENIED",
        ServingErrorCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        ServingErrorCode.FailedPrecondition => "FAILED_PRECONDITION",
        ServingErrorCode.Aborted => "ABORTED",
        ServingErrorCode.OutOfRange => "OUT_OF_RANGE",
        ServingErrorCode.Unimplemented => "UNIMPLEMENTED",
        ServingErrorCode.Internal => "INTERNAL",
        ServingErrorCode.Unavailable => "UNAVAILABLE",
        ServingErrorCode.DataLoss => "DATA_LOSS",
        ServingErrorCode.Unauthenticated => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    };
}
