using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// The outermost step of the proxy pipeline: refuses a body whose Content-Length exceeds the request's size limit
/// before anything reads it, and gives the proxy's own failures (no response from a model server, a body over the limit
/// while streaming, no destination, a timeout), which YARP answers with a bare status, the serving protocols' error shape.
/// Answers that came from a model server are left untouched.
/// </summary>
public sealed partial class ProxyErrorMiddleware(ILogger<ProxyErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
        if (context.Request.ContentLength is { } length && length > limit)
        {
            LogBodyTooLarge(ClientText.Cut(context.Request.Path.Value), length, limit.Value);
            await WriteTooLargeAsync(context, limit.Value);
            return;
        }

        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            // The gRPC model-name peek reads the body before YARP does.
            context.Response.Clear();
            await WriteTooLargeAsync(context, limit);
            return;
        }

        if (context.Response.HasStarted || context.RequestAborted.IsCancellationRequested
            || context.Features.Get<IForwarderErrorFeature>() is not { } error)
        {
            return;
        }

        var status = context.Response.StatusCode;
        if (status == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteTooLargeAsync(context, limit);
            return;
        }

        var (grpcStatus, message) = error.Error switch
        {
            ForwarderError.NoAvailableDestinations => (ProtocolErrors.GrpcUnavailable, "no model server is available for this route"),
            ForwarderError.RequestTimedOut => (ProtocolErrors.GrpcDeadlineExceeded, "the model server did not answer in time"),
            ForwarderError.RequestBodyClient => (ProtocolErrors.GrpcInvalidArgument, "the request body could not be read"),
            ForwarderError.RequestBodyDestination or ForwarderError.RequestBodyCanceled =>
                (ProtocolErrors.GrpcUnavailable, "the model server stopped reading the request"),
            _ => (ProtocolErrors.GrpcUnavailable, "the model server could not be reached"),
        };
        context.Response.Clear();
        await ProtocolErrors.WriteAsync(context, status >= 400 ? status : StatusCodes.Status502BadGateway, grpcStatus, message);
    }

    private static Task WriteTooLargeAsync(HttpContext context, long? limit) =>
        ProtocolErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, ProtocolErrors.GrpcResourceExhausted,
            limit is { } bytes ? $"the request body exceeds the limit of {bytes} bytes" : "the request body is too large");

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Request to {Path} refused: its body of {Length} bytes exceeds the limit of {Limit} bytes")]
    private partial void LogBodyTooLarge(string path, long length, long limit);
}
