namespace ServingStack.Inference.Runtime;

/// <summary>The outputs of one inference (owned by the caller), or why there are none.</summary>
public readonly record struct InferenceOutcome(InferenceTensor[]? Outputs, ServingError? Error)
{
    public static InferenceOutcome Failed(ServingError error) => new(null, error);
}
