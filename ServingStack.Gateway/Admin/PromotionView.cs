using ServingStack.Gateway.Splits;

namespace ServingStack.Gateway.Admin;

/// <summary>A split's promotion as the admin API shows it: status, steps, where the canary stands and what comes next.</summary>
/// <param name="Status"><c>progressing</c>, <c>paused</c>, <c>stopped</c> or <c>completed</c>.</param>
/// <param name="Percent">The canary's share of the traffic now, in percent.</param>
/// <param name="NextStep">The next step, in percent; null once nothing is above the current share.</param>
/// <param name="Reason">Why the promotion is paused or stopped.</param>
public sealed record PromotionView(
    string Status,
    string Canary,
    IReadOnlyList<int> Steps,
    int HealthyWindows,
    int Percent,
    int? NextStep,
    string? Reason,
    DateTimeOffset ChangedAt)
{
    public static PromotionView? From(ModelSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split.Promotion is not { } promotion)
        {
            return null;
        }

        var percent = split.Find(promotion.Canary) is { } canary ? split.PercentOf(canary) : 0;
        return new PromotionView(promotion.Status.ToString().ToLowerInvariant(), promotion.Canary, promotion.Steps, promotion.HealthyWindows,
            (int)Math.Round(percent), promotion.NextStep(percent), promotion.Reason, promotion.ChangedAt);
    }
}
