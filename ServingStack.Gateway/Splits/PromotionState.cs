using System.Collections.Immutable;

namespace ServingStack.Gateway.Splits;

/// <summary>A split's progressive promotion as it stands (immutable, part of the <see cref="ModelSplit"/> snapshot).</summary>
/// <param name="Canary">The target being promoted: the split's one canary.</param>
/// <param name="Reason">Why it is paused or stopped.</param>
public sealed record PromotionState(
    ImmutableArray<int> Steps,
    int HealthyWindows,
    string Canary,
    PromotionStatus Status,
    string? Reason,
    DateTimeOffset ChangedAt)
{
    /// <summary>The step after <paramref name="percent"/>, the canary's current share; null when none is above it.</summary>
    public int? NextStep(double percent)
    {
        foreach (var step in Steps)
        {
            if (step > percent)
            {
                return step;
            }
        }

        return null;
    }
}
