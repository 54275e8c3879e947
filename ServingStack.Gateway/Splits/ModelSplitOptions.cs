namespace ServingStack.Gateway.Splits;

/// <summary>One model's split: its targets, which is stable, and an optional header that makes clients sticky.</summary>
public sealed class ModelSplitOptions
{
    public List<SplitTargetOptions> Targets { get; } = [];

    /// <summary>The baseline target's name; the first target when unset. Every other target is a canary.</summary>
    public string? Stable { get; set; }

    /// <summary>A request header whose value maps the client to one target at given weights.</summary>
    public string? StickyHeader { get; set; }

    /// <summary>Progressive promotion of the canary while analysis finds it healthy; none when unset.</summary>
    public PromotionOptions? Promotion { get; set; }
}
