using System.Text;
using Microsoft.Extensions.Options;

namespace ServingStack.Gateway.Security;

/// <summary>Reports every problem in <c>Gateway:Auth</c>, <c>Gateway:RateLimit</c> and <c>Gateway:Tls</c> at once.</summary>
public sealed class GatewaySecurityOptionsValidator : IValidateOptions<GatewaySecurityOptions>
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
}
