using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ServingStack.Tests.Gateway;

/// <summary>HS256 tokens minted in the test, with the gateway's signing key or another one.</summary>
internal static class SecurityTokens
{
    public const string SigningKey = "gateway-test-signing-key-0123456789abcdef";
    public const string OtherKey = "some-other-signing-key-0123456789abcdef!!";
    public const string Issuer = "https://issuer.test";
    public const string Audience = "servingstack";

    public static string Mint(string subject, string key = SigningKey, TimeSpan? lifetime = null, DateTime? notBefore = null,
        string issuer = Issuer, string audience = Audience, params (string Type, string Value)[] claims)
    {
        var now = notBefore ?? DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + (lifetime ?? TimeSpan.FromMinutes(10)),
            Subject = new ClaimsIdentity([new Claim("sub", subject), .. claims.Select(c => new Claim(c.Type, c.Value))]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
