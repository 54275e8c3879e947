using Microsoft.Extensions.Options;

namespace ServingStack.Gateway.Routing;

/// <summary>Reports every problem in <c>Gateway:Resilience</c> at once, each with its key.</summary>
public sealed class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>
{
    private const string Prefix = ResilienceOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, ResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.ActivePath) || !options.ActivePath.StartsWith('/') || options.ActivePath.Contains('?', StringComparison.Ordinal))
        {
            errors.Add($"{Prefix}:ActivePath must be a path starting with '/' (no query), not '{options.ActivePath}'.");
        }

        CheckPositive(errors, "ActiveInterval", options.ActiveInterval);
        CheckPositive(errors, "ActiveTimeout", options.ActiveTimeout);
        CheckPositive(errors, "ReactivationPeriod", options.ReactivationPeriod);

        // The replay buffer's in-memory threshold is an int (HttpRequest.EnableBuffering).
        if (options.MaxReplayBodyBytes is < 0 or > int.MaxValue)
        {
            errors.Add($"{Prefix}:MaxReplayBodyBytes must be within [0, {int.MaxValue}], not {options.MaxReplayBodyBytes}.");
        }

        if (options.PassiveConsecutiveFailures < 1)
        {
            errors.Add($"{Prefix}:PassiveConsecutiveFailures must be >= 1, not {options.PassiveConsecutiveFailures}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void CheckPositive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:{key} must be positive, not {value}.");
        }
    }
}
