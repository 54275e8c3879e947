using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace ServingStack.Gateway.Security;

/// <summary>
/// The <c>ApiKey</c> scheme: a key from <c>Gateway:Auth:ApiKeys</c> in the API key header or as
/// <c>Authorization: ApiKey KEY</c>, compared in constant time against every configured key; the key's scopes
/// (<c>Gateway:Auth:ApiKeyScopes</c>) become a <c>scope</c> claim.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<GatewaySecurityOptions> security) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    private const int StackKeyBytes = 256;

    private static readonly ConditionalWeakTable<GatewayAuthOptions, KeyValuePair<string, byte[]>[]> KeyHashes = new();

    private readonly GatewayAuthOptions _auth = security.Value.Auth;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey(Request, _auth.ApiKeyHeader);
        if (presented is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // Hashing first makes each comparison constant-time whatever the lengths; every key is compared. The keys'
        // hashes are computed once per options instance (the handler itself is created per request).
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        HashKey(presented, hash);
        string? match = null;
        foreach (var (name, keyHash) in KeyHashes.GetValue(_auth, HashAll))
        {
            if (CryptographicOperations.FixedTimeEquals(hash, keyHash))
            {
                match ??= name;
            }
        }

        if (match is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("invalid API key"));
        }

        var claims = new List<Claim>(2) { new(GatewayClaims.ApiKeyName, match) };
        if (_auth.ApiKeyScopes.TryGetValue(match, out var scopes) && scopes.Count > 0)
        {
            // As a JWT carries them, so that roles and the override permission read both alike.
            claims.Add(new Claim("scope", string.Join(' ', scopes)));
        }

        var identity = new ClaimsIdentity(claims, SchemeName, GatewayClaims.ApiKeyName, "role");
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    private static KeyValuePair<string, byte[]>[] HashAll(GatewayAuthOptions auth)
    {
        var hashes = new KeyValuePair<string, byte[]>[auth.ApiKeys.Count];
        var i = 0;
        foreach (var (name, key) in auth.ApiKeys)
        {
            var hash = new byte[SHA256.HashSizeInBytes];
            HashKey(key, hash);
            hashes[i++] = new(name, hash);
        }

        return hashes;
    }

    private static void HashKey(string key, Span<byte> hash)
    {
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        Span<byte> utf8 = length <= StackKeyBytes ? stackalloc byte[StackKeyBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(key, utf8)], hash);
        }
        finally
        {
            // The buffer held a secret.
            CryptographicOperations.ZeroMemory(utf8);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The key in <paramref name="header"/>, else in <c>Authorization: ApiKey KEY</c>; null when neither.</summary>
    public static string? PresentedKey(HttpRequest request, string header)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = request.Headers[header].ToString();
        if (key.Length > 0)
        {
            return key;
        }

        var authorization = request.Headers.Authorization.ToString();
        const string Prefix = SchemeName + " ";
        return authorization.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) && authorization.Length > Prefix.Length
            ? authorization[Prefix.Length..].Trim()
            : null;
    }
}
