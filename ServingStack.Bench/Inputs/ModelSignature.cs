namespace ServingStack.Bench.Inputs;

/// <summary>A model's name, versions, inputs and outputs, from Open Inference metadata (REST or gRPC).</summary>
public sealed record ModelSignature(string Name, IReadOnlyList<string> Versions, IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs);
