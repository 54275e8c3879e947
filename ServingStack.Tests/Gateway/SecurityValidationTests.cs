using Microsoft.Extensions.Configuration;
using ServingStack.Gateway.Security;

namespace ServingStack.Tests.Gateway;

public sealed class SecurityValidationTests
{
    [Fact]
    public void Every_security_setting_problem_is_reported_at_once()
    {
        var options = new GatewaySecurityOptions();
        options.Auth.Jwt.SigningKey = "short";
        options.Auth.ApiKeys["a"] = "tiny";
        options.Auth.AdminRole = " ";
        options.Auth.OverrideRole = "two words";
        options.Auth.ApiKeyScopes["nobody"] = ["servingstack-override"];
        options.Auth.ApiKeyScopes["a"] = ["with space", ""];
        options.RateLimit.PermitsPerSecond = -1;
        options.RateLimit.Burst = 0;
        options.RateLimit.QueueLimit = -2;
        options.Tls.CertificatePath = "/nonexistent/cert.pem";

        var result = new GatewaySecurityOptionsValidator(new ConfigurationBuilder().Build()).Validate(null, options);

        Assert.True(result.Failed);
        var errors = result.Failures!.ToList();
        foreach (var key in new[] { "SigningKey", "ApiKeys:a", "AdminRole", "OverrideRole", "ApiKeyScopes:nobody names no key", "ApiKeyScopes:a:0", "ApiKeyScopes:a:1", "PermitsPerSecond", "Burst", "QueueLimit", "CertificatePath" })
        {
            Assert.Contains(errors, e => e.Contains(key, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Nothing_configured_is_valid_and_leaves_security_off()
    {
        var options = new GatewaySecurityOptions();
        Assert.True(new GatewaySecurityOptionsValidator(new ConfigurationBuilder().Build()).Validate(null, options).Succeeded);
        Assert.False(options.Auth.Enabled);
        Assert.False(options.RateLimit.Enabled);
        Assert.False(options.Tls.Enabled);
    }
}
