namespace ServingStack.AppHost.Hosting;

/// <summary>One target of a split: an inference service, the label it is pinned to (and that label's version), its weight.</summary>
public sealed record GatewaySplitTarget(string Name, InferenceServiceResource Service, string? Label, long? Version, int Weight);
