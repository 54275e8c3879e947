using Microsoft.Extensions.Options;

namespace ServingStack.Gateway.Routing;

/// <summary>Reports every problem in <c>Gateway:Discovery</c> at once, each with its key.</summary>
public sealed class DestinationDiscoveryOptionsValidator : IValidateOptions<DestinationDiscoveryOptions>
{
    private const string Prefix = DestinationDiscoveryOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, DestinationDiscoveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.RefreshPeriod <= TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:RefreshPeriod must be positive, not {options.RefreshPeriod}.");
        }

        if (options.ConnectionLifetime <= TimeSpan.Zero && options.ConnectionLifetime != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{Prefix}:ConnectionLifetime must be positive (or -00:00:00.001 for no limit), not {options.ConnectionLifetime}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
