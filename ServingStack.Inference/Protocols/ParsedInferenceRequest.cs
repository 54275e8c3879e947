using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>What a protocol adapter read out of a request body; owns the input tensors.</summary>
public sealed class ParsedInferenceRequest : IDisposable
{
    public List<InferenceTensor> Inputs { get; } = [];

    /// <summary>Outputs the client asked for, in its order; null for all of them.</summary>
    public List<string>? RequestedOutputs { get; set; }

    /// <summary>Open Inference's request id, echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>TF Serving's row format (<c>instances</c> → <c>predictions</c>).</summary>
    public bool RowFormat { get; set; }

    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }

        Inputs.Clear();
    }
}
