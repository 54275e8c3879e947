using Microsoft.Extensions.Options;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary><c>Gateway:Splits:{model}:Promotion</c> is validated with the rest of the gateway section, every error at once.</summary>
public sealed class PromotionValidationTests
{
    [Fact]
    public async Task Startup_refuses_invalid_promotion_settings_and_lists_every_error()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ReverseProxy:Clusters:c:Destinations:a:Address"] = "http://127.0.0.1:1",
            ["Gateway:CanaryAnalysis:Enabled"] = "false",
            ["Gateway:Splits:m1:Targets:0:Name"] = "stable",
            ["Gateway:Splits:m1:Targets:0:Cluster"] = "c",
            ["Gateway:Splits:m1:Targets:0:Weight"] = "100",
            ["Gateway:Splits:m1:Targets:1:Name"] = "canary",
            ["Gateway:Splits:m1:Targets:1:Cluster"] = "c",
            ["Gateway:Splits:m1:Targets:1:Weight"] = "0",
            ["Gateway:Splits:m1:Promotion:Steps:0"] = "50",
            ["Gateway:Splits:m1:Promotion:Steps:1"] = "25",
            ["Gateway:Splits:m1:Promotion:Steps:2"] = "120",
            ["Gateway:Splits:m1:Promotion:HealthyWindows"] = "0",
            ["Gateway:Splits:m2:Targets:0:Name"] = "a",
            ["Gateway:Splits:m2:Targets:0:Cluster"] = "c",
            ["Gateway:Splits:m2:Targets:0:Weight"] = "80",
            ["Gateway:Splits:m2:Targets:1:Name"] = "b",
            ["Gateway:Splits:m2:Targets:1:Cluster"] = "c",
            ["Gateway:Splits:m2:Targets:1:Weight"] = "10",
            ["Gateway:Splits:m2:Targets:2:Name"] = "c",
            ["Gateway:Splits:m2:Targets:2:Cluster"] = "c",
            ["Gateway:Splits:m2:Targets:2:Weight"] = "10",
            ["Gateway:Splits:m2:Promotion:HealthyWindows"] = "2",
        };
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));
        var message = string.Join("\n", exception.Failures);
        string[] expected =
        [
            "Gateway:Splits:m1:Promotion needs canary analysis, but Gateway:CanaryAnalysis:Enabled is false.",
            "Gateway:Splits:m1:Promotion:Steps:1 (25) must be greater than the step before it (50).",
            "Gateway:Splits:m1:Promotion:Steps:2 must be within [1, 100], not 120.",
            "Gateway:Splits:m1:Promotion:Steps must end with 100",
            "Gateway:Splits:m1:Promotion:HealthyWindows must be >= 1, not 0.",
            "Gateway:Splits:m1:Promotion: the canary 'canary' needs a positive starting Weight",
            "Gateway:Splits:m2:Promotion needs canary analysis",
            "Gateway:Splits:m2:Promotion:Steps must list the canary's weights",
            "Gateway:Splits:m2:Promotion needs exactly two targets, the stable one and one canary, not 3.",
        ];
        foreach (var text in expected)
        {
            Assert.Contains(text, message, StringComparison.Ordinal);
        }
    }
}
