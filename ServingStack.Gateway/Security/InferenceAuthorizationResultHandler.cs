using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Routing;

namespace ServingStack.Gateway.Security;

/// <summary>On inference routes, answers refused requests with 401 (and <c>WWW-Authenticate</c>) or 403 in the protocol's error shape.</summary>
public sealed partial class InferenceAuthorizationResultHandler(IOptions<GatewaySecurityOptions> options, ILogger<InferenceAuthorizationResultHandler> logger)
    : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();
    private readonly GatewayAuthOptions _auth = options.Value.Auth;

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Succeeded || context.GetEndpoint()?.Metadata.GetMetadata<InferenceRouteMetadata>() is null)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }

        if (authorizeResult.Forbidden)
        {
            LogRefused(context.Request.Path, "forbidden");
            await ProtocolErrors.WriteAsync(context, StatusCodes.Status403Forbidden, ProtocolErrors.GrpcPermissionDenied, "forbidden");
            return;
        }

        var presented = context.Request.Headers.Authorization.Count > 0 || context.Request.Headers[_auth.ApiKeyHeader].Count > 0;
        var challenges = new List<string>();
        if (_auth.Jwt.Enabled)
        {
            challenges.Add(presented && context.Request.Headers.Authorization.ToString().StartsWith(JwtBearerDefaults.AuthenticationScheme + " ", StringComparison.OrdinalIgnoreCase)
                ? "Bearer error=\"invalid_token\""
                : "Bearer");
        }

        if (_auth.ApiKeys.Count > 0)
        {
            challenges.Add($"ApiKey header=\"{_auth.ApiKeyHeader}\"");
        }

        context.Response.Headers.WWWAuthenticate = challenges.ToArray();
        LogRefused(context.Request.Path, presented ? "invalid credentials" : "no credentials");
        await ProtocolErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, ProtocolErrors.GrpcUnauthenticated,
            presented ? "invalid credentials" : "authentication required: send a bearer token or an API key");
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Inference request to {Path} refused: {Why}")]
    private partial void LogRefused(string path, string why);
}
