using System.Security.Claims;

namespace ServingStack.Gateway.Security;

/// <summary>Claim names the gateway reads (JWT claims are not remapped) and the identity that rate limits partition by.</summary>
public static class GatewayClaims
{
    /// <summary>Set by the API key handler: the configured name of the key presented.</summary>
    public const string ApiKeyName = "servingstack:api_key";

    public const string Subject = "sub";

    public static bool HasRole(ClaimsPrincipal principal, string role)
    {
        ArgumentNullException.ThrowIfNull(principal);
        foreach (var claim in principal.Claims)
        {
            var matches = claim.Type switch
            {
                "role" or "roles" or ClaimTypes.Role => string.Equals(claim.Value, role, StringComparison.Ordinal),
                "scope" or "scp" => claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(role, StringComparer.Ordinal),
                _ => false,
            };
            if (matches)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>JWT <c>sub</c>, else API key name, else remote IP address.</summary>
    public static string ClientOf(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.User.FindFirst(Subject)?.Value is { Length: > 0 } subject)
        {
            return "sub:" + subject;
        }

        if (context.User.FindFirst(ApiKeyName)?.Value is { Length: > 0 } key)
        {
            return "key:" + key;
        }

        return "ip:" + context.Connection.RemoteIpAddress;
    }
}
