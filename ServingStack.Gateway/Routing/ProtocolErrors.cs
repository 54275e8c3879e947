using System.Globalization;
using System.Text.Json.Nodes;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// The gateway's own answers on inference routes, in the serving protocols' shape: <c>{"error": "..."}</c> for REST,
/// a trailers-only status (HTTP 200, <c>grpc-status</c>, <c>grpc-message</c>) for gRPC.
/// </summary>
public static class ProtocolErrors
{
    public const int GrpcInvalidArgument = 3;
    public const int GrpcDeadlineExceeded = 4;
    public const int GrpcPermissionDenied = 7;
    public const int GrpcResourceExhausted = 8;
    public const int GrpcUnavailable = 14;
    public const int GrpcUnauthenticated = 16;

    public static bool IsGrpc(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true;
    }

    public static async Task WriteAsync(HttpContext context, int status, int grpcStatus, string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.Response;
        if (IsGrpc(context.Request))
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = grpcStatus.ToString(CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(new JsonObject { ["error"] = message }.ToJsonString(), cancellationToken);
    }
}
