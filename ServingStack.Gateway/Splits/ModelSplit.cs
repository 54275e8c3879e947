using System.Collections.Immutable;

namespace ServingStack.Gateway.Splits;

/// <summary>An immutable snapshot of one model's split; the registry swaps whole snapshots.</summary>
public sealed record ModelSplit(string Model, ImmutableArray<SplitTarget> Targets, string? StickyHeader, string Source, DateTimeOffset ChangedAt)
{
    // Computed, not initialised: a 'with' copy keeps initialised fields, so a stored total would outlive new weights.
    // Loops, not LINQ: read on every split request, and LINQ over an ImmutableArray boxes it.
    public int TotalWeight
    {
        get
        {
            var total = 0;
            foreach (var target in Targets)
            {
                total += target.Weight;
            }

            return total;
        }
    }

    public SplitTarget Stable => Targets.First(t => t.IsStable);

    /// <summary>The first canary with weight, else the first canary; null for a split with only a stable target.</summary>
    public SplitTarget? Canary => Targets.FirstOrDefault(t => !t.IsStable && t.Weight > 0) ?? Targets.FirstOrDefault(t => !t.IsStable);

    public SplitTarget? Find(string name)
    {
        foreach (var target in Targets)
        {
            if (string.Equals(target.Name, name, StringComparison.Ordinal))
            {
                return target;
            }
        }

        return null;
    }

    /// <summary>The progressive promotion of the canary, when configured.</summary>
    public PromotionState? Promotion { get; init; }

    /// <summary>A target's share of the traffic, in percent.</summary>
    public double PercentOf(SplitTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var total = TotalWeight;
        return total <= 0 ? 0 : target.Weight * 100.0 / total;
    }

    public static ModelSplit From(string model, ModelSplitOptions options, string source, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        var stable = options.Stable ?? options.Targets[0].Name;
        var targets = options.Targets
            .Select(t => new SplitTarget(t.Name, t.Cluster, t.GrpcCluster, t.Version, t.Label, t.Weight, t.Name == stable))
            .ToImmutableArray();
        var promotion = options.Promotion is { } p && targets.FirstOrDefault(t => !t.IsStable) is { } canary
            ? new PromotionState([.. p.Steps], p.HealthyWindows, canary.Name, PromotionStatus.Progressing, null, now)
            : null;
        return new ModelSplit(model, targets, string.IsNullOrWhiteSpace(options.StickyHeader) ? null : options.StickyHeader, source, now)
        {
            Promotion = promotion,
        };
    }
}
