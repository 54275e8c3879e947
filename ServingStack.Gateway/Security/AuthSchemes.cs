using Microsoft.AspNetCore.Authentication.JwtBearer;

namespace ServingStack.Gateway.Security;

/// <summary>The authentication scheme names, and YARP's reserved route policy names.</summary>
public static class AuthSchemes
{
    public const string Bearer = JwtBearerDefaults.AuthenticationScheme;

    public const string ApiKey = ApiKeyAuthenticationHandler.SchemeName;

    /// <summary>YARP: the route requires the application's default policy (here: any configured credential).</summary>
    public const string DefaultPolicy = "default";

    /// <summary>YARP: the route is open.</summary>
    public const string AnonymousPolicy = "anonymous";

    /// <summary>The gateway's admin credential only: the backends' admin operations (<see cref="BackendAdminRoutes"/>).</summary>
    public const string AdminPolicy = "servingstack-admin";

    /// <summary>The scheme's exact name for a case-insensitive <paramref name="name"/>; null when it is neither scheme.</summary>
    public static string? Canonical(string? name) =>
        string.Equals(name, Bearer, StringComparison.OrdinalIgnoreCase) ? Bearer
        : string.Equals(name, ApiKey, StringComparison.OrdinalIgnoreCase) ? ApiKey
        : null;
}
