using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;

namespace ServingStack.Gateway.Security;

/// <summary>Lets admin requests through only with the configured API key, compared in constant time; 401 otherwise.</summary>
public sealed partial class AdminApiKeyFilter(IOptions<GatewayOptions> options, ILogger<AdminApiKeyFilter> logger) : IEndpointFilter
{
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(options.Value.AdminApiKey ?? ""));
    private readonly string _header = options.Value.AdminApiKeyHeader;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var presented = context.HttpContext.Request.Headers[_header].ToString();
        // Hashing first makes the comparison constant-time whatever the presented key's length.
        if (presented.Length == 0 || !CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _expected))
        {
            LogRejected(context.HttpContext.Request.Path, presented.Length == 0 ? "missing" : "wrong");
            context.HttpContext.Response.Headers.WWWAuthenticate = "ApiKey";
            return TypedResults.Problem($"the admin API needs a valid {_header} header.", statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        return await next(context);
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Admin request to {Path} rejected: {Why} API key")]
    private partial void LogRejected(string path, string why);
}
