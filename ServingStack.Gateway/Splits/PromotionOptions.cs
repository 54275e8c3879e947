namespace ServingStack.Gateway.Splits;

/// <summary>
/// <c>Gateway:Splits:{model}:Promotion</c>: progressive promotion of the split's one canary. After
/// <see cref="HealthyWindows"/> consecutive healthy analysis windows (each with at least
/// <see cref="CanaryAnalysisOptions.MinRequests"/> canary requests) the canary's weight moves to the next of
/// <see cref="Steps"/> (a percentage; stable gets the rest); at 100 the promotion is complete.
/// </summary>
public sealed class PromotionOptions
{
    /// <summary>The canary's weights in percent, increasing, ending with 100 (e.g. 10, 25, 50, 100).</summary>
    public List<int> Steps { get; } = [];

    /// <summary>Consecutive healthy windows at a step before the next one.</summary>
    public int HealthyWindows { get; set; } = 3;
}
