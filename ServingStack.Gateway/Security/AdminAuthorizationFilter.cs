using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Gateway.Security;

/// <summary>
/// Admin requests pass with the admin API key (constant-time compare), a JWT carrying the admin role, or a client API
/// key with the admin role among its scopes: no or invalid credentials → 401, a valid token or key without the role →
/// 403 (problem details).
/// </summary>
public sealed partial class AdminAuthorizationFilter(
    IOptions<GatewayOptions> gateway,
    IOptions<GatewaySecurityOptions> security,
    ILogger<AdminAuthorizationFilter> logger) : IEndpointFilter
{
    private readonly byte[]? _expected = string.IsNullOrEmpty(gateway.Value.AdminApiKey) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(gateway.Value.AdminApiKey));
    private readonly string _header = gateway.Value.AdminApiKeyHeader;
    private readonly GatewayAuthOptions _auth = security.Value.Auth;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var presented = http.Request.Headers[_header].ToString();
        if (_expected is not null && presented.Length > 0
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _expected))
        {
            return await next(context);
        }

        // A client API key whose scopes hold the admin role (Gateway:Auth:ApiKeyScopes).
        if (_auth.ApiKeys.Count > 0 && ApiKeyAuthenticationHandler.PresentedKey(http.Request, _auth.ApiKeyHeader) is not null)
        {
            var keyed = await http.AuthenticateAsync(AuthSchemes.ApiKey);
            if (keyed.Succeeded)
            {
                if (GatewayClaims.HasRole(keyed.Principal, _auth.AdminRole))
                {
                    http.User = keyed.Principal;
                    return await next(context);
                }

                LogRejected(ClientText.Cut(http.Request.Path.Value), "API key without the admin scope");
                return TypedResults.Problem($"the API key lacks the '{_auth.AdminRole}' scope.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
            }
        }

        var bearer = http.Request.Headers.Authorization.ToString().StartsWith(JwtBearerDefaults.AuthenticationScheme + " ", StringComparison.OrdinalIgnoreCase);
        if (_auth.Jwt.Enabled && bearer)
        {
            var result = await http.AuthenticateAsync(JwtBearerDefaults.AuthenticationScheme);
            if (result.Succeeded)
            {
                if (GatewayClaims.HasRole(result.Principal, _auth.AdminRole))
                {
                    http.User = result.Principal;
                    return await next(context);
                }

                LogRejected(ClientText.Cut(http.Request.Path.Value), "token without the admin role");
                return TypedResults.Problem($"the token lacks the '{_auth.AdminRole}' role.", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
            }
        }

        LogRejected(ClientText.Cut(http.Request.Path.Value), presented.Length > 0 ? "wrong API key" : bearer ? "invalid token" : "no credentials");
        var challenges = new List<string>();
        if (_expected is not null)
        {
            challenges.Add("ApiKey");
        }

        if (_auth.Jwt.Enabled)
        {
            challenges.Add(bearer ? "Bearer error=\"invalid_token\"" : "Bearer");
        }

        http.Response.Headers.WWWAuthenticate = challenges.ToArray();
        var wanted = _expected is null ? "a bearer token" : _auth.Jwt.Enabled ? $"a valid {_header} header or a bearer token" : $"a valid {_header} header";
        return TypedResults.Problem($"the admin API needs {wanted}.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
    }

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Admin request to {Path} rejected: {Why}")]
    private partial void LogRejected(string path, string why);
}
