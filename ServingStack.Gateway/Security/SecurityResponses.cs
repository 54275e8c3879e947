using System.Text.Json.Nodes;

namespace ServingStack.Gateway.Security;

/// <summary>Refusals in the serving protocols' shape: <c>{"error": "..."}</c> for REST, a trailers-only status for gRPC.</summary>
public static class SecurityResponses
{
    public const int GrpcUnauthenticated = 16;
    public const int GrpcPermissionDenied = 7;
    public const int GrpcResourceExhausted = 8;

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
            response.Headers["grpc-status"] = grpcStatus.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        await response.WriteAsync(new JsonObject { ["error"] = message }.ToJsonString(), cancellationToken);
    }
}
