using System.Text.Json;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>A JSON inference protocol's two ends: read the body into tensors, write the outputs back.</summary>
public interface IJsonInferenceProtocol
{
    /// <summary>The <c>protocol</c> label of the request metrics.</summary>
    string Name { get; }

    ServingError? ReadRequest(JsonElement root, OnnxModelSession session, ParsedInferenceRequest request);

    /// <summary>Checks that the outputs can be written in the request's form, before any byte of the response is.</summary>
    ServingError? CheckOutputs(ParsedInferenceRequest request, InferenceTensor[] outputs);

    void WriteResponse(Utf8JsonWriter writer, ModelVersion version, ParsedInferenceRequest request, InferenceTensor[] outputs);
}
