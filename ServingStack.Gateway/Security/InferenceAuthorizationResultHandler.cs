using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;
using ServingStack.Gateway.Routing;

namespace ServingStack.Gateway.Security;

/// <summary>On inference routes, answers refused requests with 401 (and <c>WWW-Authenticate</c>) or 403 in the protocol's error shape.</summary>
public sealed partial class InferenceAuthorizationResultHandler(
    IOptions<GatewaySecurityOptions> options, IOptions<GatewayOptions> gateway, ILogger<InferenceAuthorizationResultHandler> logger)
    : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();
    private readonly GatewayAuthOptions _auth = options.Value.Auth;
    private readonly string _adminKeyHeader = gateway.Value.AdminApiKeyHeader;

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

        if (policy.Requirements.OfType<BackendAdminRequirement>().Any())
        {
            // A backend admin operation: an inference credential is not enough (403), no or a wrong credential is 401.
            var authenticated = context.User.Identity?.IsAuthenticated == true;
            LogRefused(ClientText.Cut(context.Request.Path.Value), authenticated ? "admin operation without the admin credential" : "admin operation without credentials");
            if (!authenticated)
            {
                context.Response.Headers.WWWAuthenticate = "ApiKey header=\"" + _adminKeyHeader + "\"";
            }

            await ProtocolErrors.WriteAsync(context,
                authenticated ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized,
                authenticated ? ProtocolErrors.GrpcPermissionDenied : ProtocolErrors.GrpcUnauthenticated,
                $"admin operation: the gateway admin credential is required (the admin API key in {_adminKeyHeader}, or a token or API key with the '{_auth.AdminRole}' role)");
            return;
        }

        if (authorizeResult.Forbidden)
        {
            LogRefused(ClientText.Cut(context.Request.Path.Value), "forbidden");
            await ProtocolErrors.WriteAsync(context, StatusCodes.Status403Forbidden, ProtocolErrors.GrpcPermissionDenied,
                "forbidden: the credential lacks a role this route requires");
            return;
        }

        var presented = context.Request.Headers.Authorization.Count > 0 || context.Request.Headers[_auth.ApiKeyHeader].Count > 0;
        var challenges = new List<string>();
        // Challenge with the route policy's schemes only (a named policy may accept tokens but not API keys).
        var schemes = policy.AuthenticationSchemes.Count > 0 ? policy.AuthenticationSchemes : _auth.ConfiguredSchemes();
        if (schemes.Contains(AuthSchemes.Bearer))
        {
            challenges.Add(presented && context.Request.Headers.Authorization.ToString().StartsWith(AuthSchemes.Bearer + " ", StringComparison.OrdinalIgnoreCase)
                ? "Bearer error=\"invalid_token\""
                : "Bearer");
        }

        if (schemes.Contains(AuthSchemes.ApiKey))
        {
            challenges.Add($"ApiKey header=\"{_auth.ApiKeyHeader}\"");
        }

        context.Response.Headers.WWWAuthenticate = challenges.ToArray();
        LogRefused(ClientText.Cut(context.Request.Path.Value), presented ? "invalid credentials" : "no credentials");
        await ProtocolErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, ProtocolErrors.GrpcUnauthenticated,
            presented ? "invalid credentials" : $"authentication required: send {Wanted(schemes)}");
    }

    private static string Wanted(IReadOnlyList<string> schemes) => (schemes.Contains(AuthSchemes.Bearer), schemes.Contains(AuthSchemes.ApiKey)) switch
    {
        (true, false) => "a bearer token",
        (false, true) => "an API key",
        _ => "a bearer token or an API key",
    };

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Inference request to {Path} refused: {Why}")]
    private partial void LogRefused(string path, string why);
}
