namespace ServingStack.AppHost.Hosting;

/// <summary>The weighted split of one model's traffic; the first target is the stable one.</summary>
public sealed record GatewaySplit(string Model, IReadOnlyList<GatewaySplitTarget> Targets, string? StickyHeader);
