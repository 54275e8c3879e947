using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>What a protocol adapter read out of a request body; owns the input tensors.</summary>
public sealed class ParsedInferenceRequest : IDisposable
{
    public List<InferenceTensor> Inputs { get; } = [];

    /// <summary>Outputs the client asked for, in its order; null for all of them.</summary>
    public List<string>? RequestedOutputs { get; set; }

    /// <summary>Per requested output, its <c>binary_data</c> parameter (null: not given); parallel to <see cref="RequestedOutputs"/>.</summary>
    public List<bool?>? RequestedOutputsBinary { get; set; }

    /// <summary>The request's <c>binary_data_output</c> parameter: outputs come back as binary tensor data unless they say otherwise.</summary>
    public bool BinaryOutputsByDefault { get; set; }

    /// <summary>Open Inference's request id, echoed in the response.</summary>
    public string? Id { get; set; }

    /// <summary>TF Serving's row format (<c>instances</c> → <c>predictions</c>).</summary>
    public bool RowFormat { get; set; }

    /// <summary>
    /// Whether the request carried <c>Inference-Header-Content-Length</c>, so that <see cref="BinaryData"/> follows the
    /// JSON part (binary tensor data extension).
    /// </summary>
    public bool HasBinaryPart { get; set; }

    /// <summary>The body's bytes after its JSON part; valid until the request is answered.</summary>
    public ReadOnlyMemory<byte> BinaryData { get; set; }

    /// <summary>Whether output <paramref name="index"/> (in response order) is sent as binary tensor data.</summary>
    public bool IsBinaryOutput(int index) =>
        RequestedOutputsBinary is { } flags && index < flags.Count && flags[index] is { } own ? own : BinaryOutputsByDefault;

    public void Dispose()
    {
        foreach (var input in Inputs)
        {
            input.Dispose();
        }

        Inputs.Clear();
    }
}
