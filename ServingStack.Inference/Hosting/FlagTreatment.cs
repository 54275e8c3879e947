namespace ServingStack.Inference.Hosting;

/// <summary>What this server does with a flag.</summary>
public enum FlagTreatment
{
    /// <summary>A tensorflow_model_server flag with the same meaning here.</summary>
    Honoured,

    /// <summary>A tensorflow_model_server flag with nothing to act on for an ONNX Runtime server: accepted with one warning.</summary>
    Ignored,

    /// <summary>A flag of ServingStack's own.</summary>
    Ours,
}
