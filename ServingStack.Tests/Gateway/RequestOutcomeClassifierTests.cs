using ServingStack.Gateway.Splits;
using Yarp.ReverseProxy.Forwarder;

namespace ServingStack.Tests.Gateway;

/// <summary>What counts as the server's failure, the server's success, or the client's doing, for canary analysis.</summary>
public sealed class RequestOutcomeClassifierTests
{
    [Theory]
    [InlineData(200, RequestOutcome.Success)]
    [InlineData(204, RequestOutcome.Success)]
    [InlineData(400, RequestOutcome.ClientCaused)]
    [InlineData(404, RequestOutcome.ClientCaused)]
    [InlineData(413, RequestOutcome.ClientCaused)]
    [InlineData(429, RequestOutcome.ClientCaused)]
    [InlineData(499, RequestOutcome.ClientCaused)]
    [InlineData(500, RequestOutcome.ServerFailure)]
    [InlineData(501, RequestOutcome.ClientCaused)]
    [InlineData(502, RequestOutcome.ServerFailure)]
    [InlineData(503, RequestOutcome.ServerFailure)]
    [InlineData(504, RequestOutcome.ServerFailure)]
    public void Rest_statuses(int status, RequestOutcome expected) =>
        Assert.Equal(expected, RequestOutcomeClassifier.Classify(false, null, status, grpc: false, null, clientDeadline: false));

    [Theory]
    [InlineData("0", false, RequestOutcome.Success)]
    [InlineData("1", false, RequestOutcome.ClientCaused)]
    [InlineData("2", false, RequestOutcome.ServerFailure)]
    [InlineData("3", false, RequestOutcome.ClientCaused)]
    [InlineData("4", false, RequestOutcome.ServerFailure)]
    [InlineData("4", true, RequestOutcome.ClientCaused)]
    [InlineData("5", false, RequestOutcome.ClientCaused)]
    [InlineData("7", false, RequestOutcome.ClientCaused)]
    [InlineData("8", false, RequestOutcome.ClientCaused)]
    [InlineData("9", false, RequestOutcome.ClientCaused)]
    [InlineData("12", false, RequestOutcome.ClientCaused)]
    [InlineData("13", false, RequestOutcome.ServerFailure)]
    [InlineData("13", true, RequestOutcome.ServerFailure)]
    [InlineData("14", false, RequestOutcome.ServerFailure)]
    [InlineData("15", false, RequestOutcome.ServerFailure)]
    [InlineData("16", false, RequestOutcome.ClientCaused)]
    [InlineData(null, false, RequestOutcome.ServerFailure)]
    public void Grpc_statuses(string? status, bool clientDeadline, RequestOutcome expected) =>
        Assert.Equal(expected, RequestOutcomeClassifier.Classify(false, null, 200, grpc: true, status, clientDeadline));

    [Theory]
    [InlineData(ForwarderError.Request, RequestOutcome.ServerFailure)]
    [InlineData(ForwarderError.RequestTimedOut, RequestOutcome.ServerFailure)]
    [InlineData(ForwarderError.RequestBodyDestination, RequestOutcome.ServerFailure)]
    [InlineData(ForwarderError.ResponseBodyDestination, RequestOutcome.ServerFailure)]
    [InlineData(ForwarderError.NoAvailableDestinations, RequestOutcome.ServerFailure)]
    [InlineData(ForwarderError.RequestCanceled, RequestOutcome.ClientCaused)]
    [InlineData(ForwarderError.RequestBodyClient, RequestOutcome.ClientCaused)]
    [InlineData(ForwarderError.RequestBodyCanceled, RequestOutcome.ClientCaused)]
    [InlineData(ForwarderError.ResponseBodyClient, RequestOutcome.ClientCaused)]
    [InlineData(ForwarderError.ResponseBodyCanceled, RequestOutcome.ClientCaused)]
    [InlineData(ForwarderError.RequestCreation, RequestOutcome.ClientCaused)]
    public void Transport_errors_on_either_side(ForwarderError error, RequestOutcome expected)
    {
        Assert.Equal(expected, RequestOutcomeClassifier.Classify(false, error, 502, grpc: false, null, clientDeadline: false));
        Assert.Equal(expected, RequestOutcomeClassifier.Classify(false, error, 200, grpc: true, "0", clientDeadline: false));
    }

    [Fact]
    public void A_client_that_went_away_is_never_evidence()
    {
        Assert.Equal(RequestOutcome.ClientCaused, RequestOutcomeClassifier.Classify(true, ForwarderError.Request, 502, grpc: false, null, clientDeadline: false));
        Assert.Equal(RequestOutcome.ClientCaused, RequestOutcomeClassifier.Classify(true, null, 200, grpc: true, "14", clientDeadline: false));
    }
}
