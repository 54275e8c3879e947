using Yarp.ReverseProxy.Forwarder;

namespace ServingStack.Gateway.Splits;

/// <summary>
/// Sorts a split request's outcome into evidence about the target (success or failure of the server) and outcomes the
/// client caused, which canary analysis ignores so that no client can roll a healthy canary back (or push a bad one
/// forward) by sending bad requests.
/// <list type="bullet">
/// <item>Transport: a refused or broken connect, a timeout, a destination that stopped reading or answering, or no
/// destination at all are failures; a client that stopped sending, reading or waiting (<c>*Client</c>,
/// <c>*Canceled</c>) and a request the gateway could not build from the client's headers (<c>RequestCreation</c>)
/// are the client's.</item>
/// <item>REST: 5xx is a failure except 501 (the client asked for what is not implemented); 4xx, 429 included, is the
/// client's.</item>
/// <item>gRPC: UNKNOWN, INTERNAL, UNAVAILABLE and DATA_LOSS from the server are failures, and so is an answer with no
/// status at all; DEADLINE_EXCEEDED is a failure only when the client set no deadline (<c>grpc-timeout</c>); CANCELLED,
/// INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED (a full queue under the client's
/// load, or a message over the size limit), FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED and
/// UNAUTHENTICATED are the client's.</item>
/// </list>
/// </summary>
public static class RequestOutcomeClassifier
{
    public static RequestOutcome Classify(bool clientAborted, ForwarderError? error, int httpStatus, bool grpc, string? grpcStatus, bool clientDeadline)
    {
        if (clientAborted)
        {
            return RequestOutcome.ClientCaused;
        }

        if (error is { } forwarderError && forwarderError != ForwarderError.None)
        {
            return IsDestinationError(forwarderError) ? RequestOutcome.ServerFailure : RequestOutcome.ClientCaused;
        }

        if (!grpc || httpStatus != StatusCodes.Status200OK)
        {
            return httpStatus switch
            {
                StatusCodes.Status501NotImplemented => RequestOutcome.ClientCaused,
                >= 500 => RequestOutcome.ServerFailure,
                >= 400 => RequestOutcome.ClientCaused,
                _ => RequestOutcome.Success,
            };
        }

        return grpcStatus switch
        {
            "0" => RequestOutcome.Success,
            // UNKNOWN, INTERNAL, UNAVAILABLE, DATA_LOSS; and no status, which no healthy server sends.
            "2" or "13" or "14" or "15" or null or "" => RequestOutcome.ServerFailure,
            "4" => clientDeadline ? RequestOutcome.ClientCaused : RequestOutcome.ServerFailure,
            _ => RequestOutcome.ClientCaused,
        };
    }

    /// <summary>Forwarding errors on the destination's side (or of the cluster), as opposed to the client's.</summary>
    public static bool IsDestinationError(ForwarderError error) => error is ForwarderError.Request
        or ForwarderError.RequestTimedOut
        or ForwarderError.RequestBodyDestination
        or ForwarderError.ResponseBodyDestination
        or ForwarderError.UpgradeRequestDestination
        or ForwarderError.UpgradeResponseDestination
        or ForwarderError.NoAvailableDestinations;
}
