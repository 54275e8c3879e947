namespace ServingStack.Inference.Protocols;

/// <summary>What a request names: a model and optionally a version or a label (never both).</summary>
public readonly record struct ModelTarget(string Model, long? Version, string? Label)
{
    public override string ToString() =>
        Version is { } v ? $"{Model} version {v}" : Label is { } l ? $"{Model} label {l}" : Model;
}
