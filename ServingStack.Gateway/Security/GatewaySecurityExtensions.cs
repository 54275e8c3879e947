using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using ServingStack.Gateway.Hosting;
using ServingStack.Gateway.Routing;
using Yarp.ReverseProxy.Configuration;

namespace ServingStack.Gateway.Security;

/// <summary>
/// Authentication (JWT bearer, API keys), admin authorization, the override permission, per-client rate limits, request
/// limits and TLS for the gateway.
/// </summary>
public static class GatewaySecurityExtensions
{
    public const string RateLimitPolicy = "gateway-clients";

    /// <summary>Registers the schemes, the override permission, the rate limiter, Kestrel's limits and TLS; must run before the gateway's own Kestrel listeners are set up.</summary>
    public static WebApplicationBuilder AddGatewaySecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<GatewaySecurityOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(GatewayOptions.SectionName).Bind(options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewaySecurityOptions>, GatewaySecurityOptionsValidator>();

        // Both schemes are always registered (so neither becomes the default) and only used where asked for.
        services.AddAuthentication()
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IOptions<GatewaySecurityOptions>>((jwt, security) => ConfigureJwt(jwt, security.Value.Auth.Jwt));
        services.AddAuthorization();
        services.AddOptions<AuthorizationOptions>()
            .Configure<IOptions<GatewaySecurityOptions>>((authorization, security) => ConfigurePolicies(authorization, security.Value.Auth));
        services.AddSingleton<IProxyConfigFilter, RouteAuthorizationConfigFilter>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, InferenceAuthorizationResultHandler>();
        services.AddSingleton<IAuthorizationHandler, BackendAdminAuthorizationHandler>();
        services.AddSingleton<OverrideAuthorizer>();

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>()
            .Configure<IOptions<GatewaySecurityOptions>>((limiter, security) => ConfigureRateLimiter(limiter, security.Value.RateLimit));

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            // Kestrel's own limits (header sizes and counts, request line, HTTP/2 frames...) under their usual keys,
            // Kestrel:Limits:*; the body size is the gateway's (Gateway:MaxRequestBodyBytes), set after this.
            context.Configuration.GetSection("Kestrel:Limits").Bind(kestrel.Limits);
            var tls = context.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewaySecurityOptions>()?.Tls;
            if (tls is { Enabled: true })
            {
                var certificate = LoadCertificate(tls);
                kestrel.ConfigureEndpointDefaults(listen => listen.UseHttps(certificate));
            }
        });
        return builder;
    }

    /// <summary>
    /// The authentication, authorization and rate-limit middleware. <paramref name="inference"/> (the proxy) is marked
    /// for protocol-shaped refusals and rate limited when a rate is; each route's authorization is its YARP
    /// <c>AuthorizationPolicy</c>, <c>default</c> when unset and a credential is configured (<see cref="RouteAuthorizationConfigFilter"/>).
    /// </summary>
    public static WebApplication UseGatewaySecurity(this WebApplication app, IEndpointConventionBuilder inference)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(inference);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        var security = app.Services.GetRequiredService<IOptions<GatewaySecurityOptions>>().Value;
        inference.WithMetadata(new InferenceRouteMetadata());
        if (security.RateLimit.Enabled)
        {
            inference.RequireRateLimiting(RateLimitPolicy);
        }

        return app;
    }

    /// <summary>
    /// The default policy (YARP's <c>default</c>) is any configured credential; each <c>Gateway:Auth:Policies</c> entry
    /// becomes a named policy. With no credential configured the framework's default is left alone (routes may then
    /// only be open: see <see cref="RouteAuthorizationConfigFilter"/>).
    /// </summary>
    private static void ConfigurePolicies(AuthorizationOptions authorization, GatewayAuthOptions auth)
    {
        var configured = auth.ConfiguredSchemes();
        // Always there (the admin API key alone may satisfy it): the backends' admin operations need the admin credential.
        authorization.AddPolicy(AuthSchemes.AdminPolicy, new AuthorizationPolicyBuilder([.. configured]).AddRequirements(new BackendAdminRequirement()).Build());
        if (configured.Count == 0)
        {
            return;
        }

        authorization.DefaultPolicy = new AuthorizationPolicyBuilder([.. configured]).RequireAuthenticatedUser().Build();
        foreach (var (name, options) in auth.Policies)
        {
            var policy = new AuthorizationPolicyBuilder(options.Schemes.Count > 0 ? [.. options.Schemes.Select(s => AuthSchemes.Canonical(s) ?? s)] : [.. configured]).RequireAuthenticatedUser();
            if (options.Roles.Count > 0)
            {
                var roles = options.Roles.ToArray();
                policy.RequireAssertion(context => roles.Any(role => GatewayClaims.HasRole(context.User, role)));
            }

            authorization.AddPolicy(name, policy.Build());
        }
    }

    private static void ConfigureJwt(JwtBearerOptions jwt, JwtAuthOptions options)
    {
        jwt.MapInboundClaims = false;
        jwt.Authority = string.IsNullOrEmpty(options.Authority) ? null : options.Authority;
        jwt.Audience = string.IsNullOrEmpty(options.Audience) ? null : options.Audience;
        jwt.RequireHttpsMetadata = options.RequireHttpsMetadata;
        var parameters = jwt.TokenValidationParameters;
        parameters.ValidateIssuer = !string.IsNullOrEmpty(options.Issuer) || jwt.Authority is not null;
        parameters.ValidIssuer = string.IsNullOrEmpty(options.Issuer) ? null : options.Issuer;
        parameters.ValidateAudience = !string.IsNullOrEmpty(options.Audience);
        parameters.ValidAudience = jwt.Audience;
        parameters.ValidateLifetime = true;
        parameters.RequireExpirationTime = true;
        parameters.ClockSkew = TimeSpan.FromSeconds(options.ClockSkewSeconds);
        parameters.NameClaimType = GatewayClaims.Subject;
        parameters.RoleClaimType = "role";
        if (!string.IsNullOrEmpty(options.SigningKey))
        {
            parameters.IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(options.SigningKey));
            parameters.ValidateIssuerSigningKey = true;
        }
    }

    private static void ConfigureRateLimiter(RateLimiterOptions limiter, GatewayRateLimitOptions options)
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.OnRejected = async (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await ProtocolErrors.WriteAsync(context.HttpContext, StatusCodes.Status429TooManyRequests, ProtocolErrors.GrpcResourceExhausted,
                $"rate limit exceeded; retry after {seconds} s", cancellationToken);
        };
        if (!options.Enabled)
        {
            return;
        }

        var rate = options.PermitsPerSecond!.Value;
        // Below one per second, one token per 1/rate seconds; otherwise whole tokens each second.
        var (tokens, period) = rate >= 1 ? ((int)Math.Floor(rate), TimeSpan.FromSeconds(1)) : (1, TimeSpan.FromSeconds(1 / rate));
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Burst ?? Math.Max(1, tokens),
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = options.QueueLimit,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        };
        limiter.AddPolicy(RateLimitPolicy, context => RateLimitPartition.GetTokenBucketLimiter(GatewayClaims.ClientOf(context), _ => bucket));
    }

    private static X509Certificate2 LoadCertificate(GatewayTlsOptions tls)
    {
        var path = tls.CertificatePath!;
        if (!string.IsNullOrEmpty(tls.KeyPath))
        {
            return string.IsNullOrEmpty(tls.Password)
                ? X509Certificate2.CreateFromPemFile(path, tls.KeyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, tls.Password, tls.KeyPath);
        }

        return X509CertificateLoader.LoadPkcs12FromFile(path, tls.Password);
    }
}
