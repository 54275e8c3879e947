using Microsoft.Extensions.Options;
using ServingStack.Gateway.Routing;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary><c>Gateway:Resilience</c> is validated at start, every error at once, each naming its key.</summary>
public sealed class ResilienceValidationTests
{
    [Fact]
    public async Task Startup_refuses_invalid_resilience_settings_and_names_every_bad_key()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Gateway:Resilience:ActivePath"] = "ready",
            ["Gateway:Resilience:ActiveInterval"] = "00:00:00",
            ["Gateway:Resilience:ActiveTimeout"] = "-00:00:01",
            ["Gateway:Resilience:ReactivationPeriod"] = "00:00:00",
            ["Gateway:Resilience:MaxReplayBodyBytes"] = "-1",
            ["Gateway:Resilience:PassiveConsecutiveFailures"] = "0",
        };
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => GatewayHost.StartAsync(settings));
        var message = string.Join("\n", exception.Failures);
        Assert.Contains("Gateway:Resilience:ActivePath must be a path starting with '/'", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Resilience:ActiveInterval must be positive", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Resilience:ActiveTimeout must be positive", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Resilience:ReactivationPeriod must be positive", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Resilience:MaxReplayBodyBytes must be within", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Resilience:PassiveConsecutiveFailures must be >= 1", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_resilience_settings_are_valid_and_a_replay_limit_beyond_int_range_is_not()
    {
        var validator = new ResilienceOptionsValidator();
        Assert.True(validator.Validate(null, new ResilienceOptions()).Succeeded);
        var result = validator.Validate(null, new ResilienceOptions { MaxReplayBodyBytes = (long)int.MaxValue + 1 });
        Assert.True(result.Failed);
        Assert.Contains("Gateway:Resilience:MaxReplayBodyBytes", result.FailureMessage, StringComparison.Ordinal);
    }
}
