using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Metrics;

/// <summary>
/// The <c>status</c> tag of <see cref="ServingMetrics.RecordRequest"/>: the canonical code names gRPC and TF Serving print
/// (OK, INVALID_ARGUMENT...), so REST and gRPC requests land in the same series and alert rules need one spelling.
/// </summary>
public static class ServingStatusNames
{
    public static string ToStatusName(this ServingErrorCode code) => code switch
    {
        ServingErrorCode.Ok => "OK",
        ServingErrorCode.Cancelled => "CANCELLED",
        ServingErrorCode.Unknown => "UNKNOWN",
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
        // A code outside the canonical set is a bug somewhere; keep the series bounded rather than tag it with a number.
        _ => "UNKNOWN",
    };
}
