namespace ServingStack.Inference.Runtime;

/// <summary>An expected failure carried as a value on the request path (no exceptions for a client's mistakes).</summary>
public sealed record ServingError(ServingErrorCode Code, string Message, int? HttpStatusOverride = null)
{
    public static ServingError InvalidArgument(string message) => new(ServingErrorCode.InvalidArgument, message);

    public static ServingError NotFound(string message) => new(ServingErrorCode.NotFound, message);

    public static ServingError Unavailable(string message) => new(ServingErrorCode.Unavailable, message);

    /// <summary>TF Serving's mapping from canonical codes to HTTP status codes.</summary>
    public static ServingError PayloadTooLarge(long limit) =>
        new(ServingErrorCode.ResourceExhausted, $"request body exceeds the limit of {limit} bytes (Serving:MaxRequestBodyBytes)", 413);

    public int HttpStatus => HttpStatusOverride ?? Code switch
    {
        ServingErrorCode.InvalidArgument or ServingErrorCode.FailedPrecondition or ServingErrorCode.OutOfRange => 400,
        ServingErrorCode.Unauthenticated => 401,
        ServingErrorCode.PermissionDenied => 403,
        ServingErrorCode.NotFound => 404,
        ServingErrorCode.AlreadyExists or ServingErrorCode.Aborted => 409,
        ServingErrorCode.ResourceExhausted => 429,
        ServingErrorCode.Cancelled => 499,
        ServingErrorCode.Unimplemented => 501,
        ServingErrorCode.Unavailable => 503,
        ServingErrorCode.DeadlineExceeded => 504,
        _ => 500,
    };
}
