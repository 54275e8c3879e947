using System.Text.Json;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.TfServing;

/// <summary>
/// TF Serving's predict shapes: row requests get <c>{"predictions": [...]}</c> with one entry per instance, columnar
/// requests get <c>{"outputs": ...}</c>; with a single output its name is left out, as TF Serving does.
/// </summary>
public sealed class TfServingPredictProtocol : IJsonInferenceProtocol
{
    public static TfServingPredictProtocol Instance { get; } = new();

    public string Name => "tfserving_rest";

    public bool SupportsBinaryTensorData => false;

    public ServingError? ReadRequest(JsonElement root, OnnxModelSession session, ParsedInferenceRequest request)
    {
        var error = TfServingPredictReader.Read(root, session.Inputs, request.Inputs, out var rowFormat);
        request.RowFormat = rowFormat;
        return error;
    }

    public ServingError? CheckOutputs(ParsedInferenceRequest request, InferenceTensor[] outputs)
    {
        if (!request.RowFormat)
        {
            return null;
        }

        var batch = request.Inputs[0].Shape[0];
        foreach (var output in outputs)
        {
            if (output.Shape.Length == 0 || output.Shape[0] != batch)
            {
                return ServingError.InvalidArgument(
                    $"output '{output.Name}' has shape {ShapeText.Format(output.Shape)}, which does not split into {batch} predictions; send the request in the columnar format ('inputs') instead");
            }
        }

        return null;
    }

    public void WriteResponse(Utf8JsonWriter writer, ModelVersion version, ParsedInferenceRequest request, InferenceTensor[] outputs)
    {
        writer.WriteStartObject();
        if (request.RowFormat)
        {
            writer.WritePropertyName("predictions");
            writer.WriteStartArray();
            var batch = outputs[0].Shape[0];
            for (var row = 0L; row < batch; row++)
            {
                if (outputs.Length == 1)
                {
                    WriteRow(writer, outputs[0], row);
                    continue;
                }

                writer.WriteStartObject();
                foreach (var output in outputs)
                {
                    writer.WritePropertyName(output.Name);
                    WriteRow(writer, output, row);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }
        else
        {
            writer.WritePropertyName("outputs");
            if (outputs.Length == 1)
            {
                JsonTensorWriter.WriteNested(writer, outputs[0], 0, 0);
            }
            else
            {
                writer.WriteStartObject();
                foreach (var output in outputs)
                {
                    writer.WritePropertyName(output.Name);
                    JsonTensorWriter.WriteNested(writer, output, 0, 0);
                }

                writer.WriteEndObject();
            }
        }

        writer.WriteEndObject();
    }

    private static void WriteRow(Utf8JsonWriter writer, InferenceTensor output, long row)
    {
        var rowSize = ShapeText.ElementCount(output.Shape.AsSpan(1));
        JsonTensorWriter.WriteNested(writer, output, 1, row * rowSize);
    }
}
