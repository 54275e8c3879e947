namespace ServingStack.Gateway.Routing;

/// <summary>What the gateway needs to know about an inference request to split it.</summary>
/// <param name="ModelEnd">For REST: the index in the path just after the model name, where a pin is inserted.</param>
/// <param name="Pinned">The client already named a version or label.</param>
public readonly record struct InferenceRequest(InferenceProtocol Protocol, string Model, int ModelEnd, bool Pinned);
