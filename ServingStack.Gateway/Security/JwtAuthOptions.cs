namespace ServingStack.Gateway.Security;

/// <summary><c>Gateway:Auth:Jwt</c>: a symmetric <see cref="SigningKey"/> (HS256), or an OpenID Connect <see cref="Authority"/>.</summary>
public sealed class JwtAuthOptions
{
    /// <summary>HMAC key (UTF-8, at least 32 bytes) for tests and simple setups.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Issuer whose discovery document supplies the signing keys (and the issuer).</summary>
    public string? Authority { get; set; }

    /// <summary>Validated when set.</summary>
    public string? Issuer { get; set; }

    /// <summary>Validated when set.</summary>
    public string? Audience { get; set; }

    public bool RequireHttpsMetadata { get; set; } = true;

    public int ClockSkewSeconds { get; set; } = 30;

    public bool Enabled => !string.IsNullOrEmpty(SigningKey) || !string.IsNullOrEmpty(Authority);
}
