using System.Text;
using Microsoft.Extensions.Options;

namespace ServingStack.Gateway.Security;

/// <summary>
/// Reports every problem in <c>Gateway:Auth</c>, <c>Gateway:RateLimit</c> and <c>Gateway:Tls</c> at once, and in the
/// <c>AuthorizationPolicy</c> of each route in YARP's <c>ReverseProxy:Routes</c>.
/// </summary>
public sealed class GatewaySecurityOptionsValidator(IConfiguration configuration) : IValidateOptions<GatewaySecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewaySecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var auth = options.Auth;
        if (auth.Jwt.SigningKey is { Length: > 0 } key && Encoding.UTF8.GetByteCount(key) < 32)
        {
            errors.Add("Gateway:Auth:Jwt:SigningKey must be at least 32 bytes (HS256).");
        }

        if (auth.Jwt.Authority is { Length: > 0 } authority && !Uri.TryCreate(authority, UriKind.Absolute, out _))
        {
            errors.Add($"Gateway:Auth:Jwt:Authority must be an absolute URL, not '{authority}'.");
        }

        if (auth.Jwt.ClockSkewSeconds < 0)
        {
            errors.Add($"Gateway:Auth:Jwt:ClockSkewSeconds must be >= 0, not {auth.Jwt.ClockSkewSeconds}.");
        }

        foreach (var (client, apiKey) in auth.ApiKeys)
        {
            if (string.IsNullOrEmpty(apiKey) || apiKey.Length < 16)
            {
                errors.Add($"Gateway:Auth:ApiKeys:{client} must be at least 16 characters.");
            }
        }

        if (string.IsNullOrWhiteSpace(auth.ApiKeyHeader))
        {
            errors.Add("Gateway:Auth:ApiKeyHeader must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(auth.AdminRole))
        {
            errors.Add("Gateway:Auth:AdminRole must not be empty.");
        }

        if (string.IsNullOrWhiteSpace(auth.OverrideRole) || auth.OverrideRole.Contains(' ', StringComparison.Ordinal))
        {
            errors.Add($"Gateway:Auth:OverrideRole must be one word, not '{auth.OverrideRole}'.");
        }

        foreach (var (client, scopes) in auth.ApiKeyScopes)
        {
            if (!auth.ApiKeys.ContainsKey(client))
            {
                errors.Add($"Gateway:Auth:ApiKeyScopes:{client} names no key in Gateway:Auth:ApiKeys.");
            }

            for (var i = 0; i < scopes.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(scopes[i]) || scopes[i].Any(char.IsWhiteSpace))
                {
                    errors.Add($"Gateway:Auth:ApiKeyScopes:{client}:{i} must be one word, not '{scopes[i]}'.");
                }
            }
        }

        ValidatePolicies(auth, errors);
        ValidateRoutes(auth, errors);

        var rate = options.RateLimit;
        if (rate.PermitsPerSecond is <= 0 or double.NaN)
        {
            errors.Add($"Gateway:RateLimit:PermitsPerSecond must be positive, not {rate.PermitsPerSecond}.");
        }

        if (rate.Burst is < 1)
        {
            errors.Add($"Gateway:RateLimit:Burst must be >= 1, not {rate.Burst}.");
        }

        if (rate.QueueLimit < 0)
        {
            errors.Add($"Gateway:RateLimit:QueueLimit must be >= 0, not {rate.QueueLimit}.");
        }

        var tls = options.Tls;
        if (tls.Enabled && !File.Exists(tls.CertificatePath))
        {
            errors.Add($"Gateway:Tls:CertificatePath '{tls.CertificatePath}' does not exist.");
        }

        if (!string.IsNullOrEmpty(tls.KeyPath) && (!tls.Enabled || !File.Exists(tls.KeyPath)))
        {
            errors.Add($"Gateway:Tls:KeyPath '{tls.KeyPath}' needs an existing key file and Gateway:Tls:CertificatePath.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidatePolicies(GatewayAuthOptions auth, List<string> errors)
    {
        var configured = auth.ConfiguredSchemes();
        foreach (var (name, policy) in auth.Policies)
        {
            var where = $"Gateway:Auth:Policies:{name}";
            if (string.Equals(name, AuthSchemes.DefaultPolicy, StringComparison.OrdinalIgnoreCase)
                || string.Equals(name, AuthSchemes.AnonymousPolicy, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{where}: '{name}' is a name YARP reserves; choose another.");
            }
            else if (string.Equals(name, AuthSchemes.AdminPolicy, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{where}: '{name}' is the gateway's own admin policy; choose another.");
            }

            if (configured.Count == 0)
            {
                errors.Add($"{where} needs a credential to check: configure Gateway:Auth:Jwt or Gateway:Auth:ApiKeys.");
            }

            for (var i = 0; i < policy.Schemes.Count; i++)
            {
                var scheme = AuthSchemes.Canonical(policy.Schemes[i]);
                if (scheme is null)
                {
                    errors.Add($"{where}:Schemes:{i} must be '{AuthSchemes.Bearer}' or '{AuthSchemes.ApiKey}', not '{policy.Schemes[i]}'.");
                }
                else if (configured.Count > 0 && !configured.Contains(scheme))
                {
                    errors.Add($"{where}:Schemes:{i} is '{scheme}', which is not configured ({(scheme == AuthSchemes.Bearer ? "Gateway:Auth:Jwt" : "Gateway:Auth:ApiKeys")}).");
                }
            }

            for (var i = 0; i < policy.Roles.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(policy.Roles[i]))
                {
                    errors.Add($"{where}:Roles:{i} must not be empty.");
                }
            }
        }
    }

    /// <summary>Each route's policy must be <c>anonymous</c>, or <c>default</c> or a configured policy with a credential configured.</summary>
    private void ValidateRoutes(GatewayAuthOptions auth, List<string> errors)
    {
        foreach (var route in configuration.GetSection("ReverseProxy:Routes").GetChildren())
        {
            var policy = route[nameof(Yarp.ReverseProxy.Configuration.RouteConfig.AuthorizationPolicy)];
            if (string.IsNullOrEmpty(policy) || string.Equals(policy, AuthSchemes.AnonymousPolicy, StringComparison.OrdinalIgnoreCase)
                || string.Equals(policy, AuthSchemes.AdminPolicy, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var where = $"ReverseProxy:Routes:{route.Key}:AuthorizationPolicy";
            if (!auth.Enabled)
            {
                errors.Add($"{where} is '{policy}', but Gateway:Auth configures no credential (Jwt or ApiKeys); use 'anonymous' or configure one.");
            }
            else if (!string.Equals(policy, AuthSchemes.DefaultPolicy, StringComparison.OrdinalIgnoreCase) && !auth.Policies.ContainsKey(policy))
            {
                var known = string.Join(", ", new[] { AuthSchemes.AnonymousPolicy, AuthSchemes.DefaultPolicy }.Concat(auth.Policies.Keys));
                errors.Add($"{where} is '{policy}', which is not in Gateway:Auth:Policies (known: {known}).");
            }
        }
    }
}
