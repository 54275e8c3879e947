using ServingStack.Gateway.Splits;

namespace ServingStack.Gateway.Admin;

/// <summary>A split as the admin API shows it.</summary>
public sealed record SplitView(
    string Model,
    string Source,
    DateTimeOffset ChangedAt,
    string? StickyHeader,
    IReadOnlyList<SplitTargetView> Targets,
    PromotionView? Promotion)
{
    public static SplitView From(ModelSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        return new SplitView(split.Model, split.Source, split.ChangedAt, split.StickyHeader,
            [.. split.Targets.Select(t => new SplitTargetView(t.Name, t.Cluster, t.GrpcCluster, t.Version, t.Label, t.Weight, t.IsStable, t.RollbackReason, t.RolledBackAt))],
            PromotionView.From(split));
    }
}
