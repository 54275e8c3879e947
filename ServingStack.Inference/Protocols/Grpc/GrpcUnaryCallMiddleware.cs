using System.Globalization;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>
/// Prepares unary calls to the inference services (<see cref="InferenceGrpcServiceAttribute"/>) before grpc-dotnet
/// handles them. Both steps keep a burst of calls that time out, or of clients that give up, from costing more than
/// the calls themselves:
/// <list type="bullet">
/// <item>The deadline: the <c>grpc-timeout</c> header becomes a <see cref="GrpcCallDeadline"/> and is removed, so
/// grpc-dotnet starts no deadline timer of its own. That timer answers DEADLINE_EXCEEDED and resets the stream while the
/// handler may still be writing (an error log: "Content-Length mismatch"), races the client's own reset at the same
/// moment (clients then see CANCELLED or UNAVAILABLE instead of DEADLINE_EXCEEDED), and doubles the HTTP/2 frames every
/// expired call costs. The services bound the queue wait by the deadline themselves, and the client's reset at its
/// deadline cancels the call.</item>
/// <item>The request: read in full here (as grpc-dotnet would, no copy and no more memory) and handed to grpc-dotnet
/// as read (<see cref="ReadRequestBody"/>), so a client that resets the stream mid-upload ends the call quietly instead
/// of as grpc-dotnet's "Error when executing service method" with a stack trace.</item>
/// </list>
/// </summary>
public sealed partial class GrpcUnaryCallMiddleware(RequestDelegate next, TimeProvider time, ILogger<GrpcUnaryCallMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var method = endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null || method.Type != MethodType.Unary || endpoint!.Metadata.GetMetadata<InferenceGrpcServiceAttribute>() is null)
        {
            await next(context);
            return;
        }

        var headers = context.Request.Headers;
        if (headers.Remove(GrpcCallDeadline.TimeoutHeader, out var timeout) &&
            GrpcCallDeadline.TryParseTimeout(timeout.ToString(), out var budget))
        {
            context.Features.Set(new GrpcCallDeadline(time.GetUtcNow() + budget, budget));
        }

        if (await ReadRequestAsync(context, method.FullName))
        {
            await next(context);
        }
    }

    /// <summary>Reads the whole request into the body pipe without consuming it; false when the call ended here.</summary>
    private async Task<bool> ReadRequestAsync(HttpContext context, string method)
    {
        var reader = context.Request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                if (result.IsCompleted || result.IsCanceled)
                {
                    // Nothing consumed: grpc-dotnet's read gets this very read back, with every byte.
                    context.Features.Set<IRequestBodyPipeFeature>(new ReadRequestBody(reader, result));
                    return true;
                }

                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            Log.ClientGaveUp(logger, ClientText.Cut(method));
            return false;
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's body limit (Serving:MaxRequestBodyBytes); answered as gRPC rather than as the HTTP 413 it would be.
            var code = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? StatusCode.ResourceExhausted : StatusCode.InvalidArgument;
            WriteStatus(context, code, $"the request could not be read: {ex.Message}");
            return false;
        }
    }

    /// <summary>A trailers-only gRPC response: the status travels in the response headers.</summary>
    private static void WriteStatus(HttpContext context, StatusCode code, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 210, EventName = "GrpcClientGaveUpDuringUpload", Level = LogLevel.Debug,
            Message = "The client reset {Method} while sending the request; the call ended without an answer")]
        public static partial void ClientGaveUp(ILogger logger, string method);
    }
}
