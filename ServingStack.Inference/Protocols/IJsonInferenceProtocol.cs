using System.Text.Json;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>A JSON inference protocol's two ends: read the body into tensors, write the outputs back.</summary>
public interface IJsonInferenceProtocol
{
    /// <summary>The <c>protocol</c> label of the request metrics.</summary>
    string Name { get; }

    /// <summary>
    /// Whether the protocol speaks Triton's binary tensor data extension: a body is then split at
    /// <c>Inference-Header-Content-Length</c> into JSON and <see cref="ParsedInferenceRequest.BinaryData"/>.
    /// </summary>
    bool SupportsBinaryTensorData { get; }

    /// <summary>
    /// Reads the body into <paramref name="request"/>. <paramref name="root"/> is <c>default</c> (kind Undefined) for a
    /// body that is all binary data (<c>Inference-Header-Content-Length: 0</c>).
    /// </summary>
    ServingError? ReadRequest(JsonElement root, OnnxModelSession session, ParsedInferenceRequest request);

    /// <summary>Checks that the outputs can be written in the request's form, before any byte of the response is.</summary>
    ServingError? CheckOutputs(ParsedInferenceRequest request, InferenceTensor[] outputs);

    /// <summary>
    /// Writes the JSON response; outputs for which <see cref="ParsedInferenceRequest.IsBinaryOutput"/> holds carry their
    /// <c>binary_data_size</c> instead of data, and the pipeline appends their bytes in order.
    /// </summary>
    void WriteResponse(Utf8JsonWriter writer, ModelVersion version, ParsedInferenceRequest request, InferenceTensor[] outputs);
}
