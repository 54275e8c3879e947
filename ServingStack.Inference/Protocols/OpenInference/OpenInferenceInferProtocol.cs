using System.Globalization;
using System.Text.Json;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.OpenInference;

/// <summary>
/// The Open Inference Protocol (KServe v2) infer body: <c>inputs</c> with name, shape, datatype and flat or nested
/// <c>data</c>; optional <c>outputs</c> to choose from; <c>id</c> echoed back; <c>parameters</c> accepted.
/// </summary>
public sealed class OpenInferenceInferProtocol : IJsonInferenceProtocol
{
    public static OpenInferenceInferProtocol Instance { get; } = new();

    public string Name => "v2_rest";

    public ServingError? ReadRequest(JsonElement root, OnnxModelSession session, ParsedInferenceRequest request)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return ServingError.InvalidArgument("the request body must be a JSON object with 'inputs'");
        }

        if (root.TryGetProperty("id", out var id))
        {
            if (id.ValueKind != JsonValueKind.String)
            {
                return ServingError.InvalidArgument("'id' must be a string");
            }

            request.Id = id.GetString();
        }

        if (root.TryGetProperty("parameters", out var parameters) && parameters.ValueKind != JsonValueKind.Object)
        {
            return ServingError.InvalidArgument("'parameters' must be an object");
        }

        if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
        {
            return ServingError.InvalidArgument("'inputs' must be a non-empty list of {name, shape, datatype, data}");
        }

        var index = 0;
        foreach (var input in inputs.EnumerateArray())
        {
            var error = ReadInput(input, $"inputs[{index}]", request);
            if (error is not null)
            {
                return error;
            }

            index++;
        }

        if (root.TryGetProperty("outputs", out var outputs))
        {
            if (outputs.ValueKind != JsonValueKind.Array)
            {
                return ServingError.InvalidArgument("'outputs' must be a list of {name}");
            }

            request.RequestedOutputs = [];
            index = 0;
            foreach (var output in outputs.EnumerateArray())
            {
                if (output.ValueKind != JsonValueKind.Object || !output.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    return ServingError.InvalidArgument($"outputs[{index}] must be an object with a string 'name'");
                }

                if (output.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("binary_data", out var binary) && binary.ValueKind == JsonValueKind.True)
                {
                    return new ServingError(ServingErrorCode.Unimplemented, $"outputs[{index}]: the binary tensor data extension is not supported; omit 'binary_data'");
                }

                request.RequestedOutputs.Add(name.GetString()!);
                index++;
            }
        }

        return null;
    }

    private static ServingError? ReadInput(JsonElement input, string where, ParsedInferenceRequest request)
    {
        if (input.ValueKind != JsonValueKind.Object)
        {
            return ServingError.InvalidArgument($"{where} must be an object with name, shape, datatype and data");
        }

        if (!input.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            return ServingError.InvalidArgument($"{where}: 'name' is required and must be a string");
        }

        var name = nameElement.GetString()!;
        if (!input.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String)
        {
            return ServingError.InvalidArgument($"input '{name}': 'datatype' is required (BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES)");
        }

        if (!TensorDataTypes.TryParseOpenInferenceName(datatype.GetString(), out var type))
        {
            return ServingError.InvalidArgument(
                $"input '{name}': unknown datatype '{datatype.GetString()}' (expected BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64 or BYTES)");
        }

        if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            return ServingError.InvalidArgument($"input '{name}': 'shape' is required and must be a list of non-negative integers");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var size) || size < 0)
            {
                return ServingError.InvalidArgument($"input '{name}': shape {shapeElement.GetRawText()} must be a list of non-negative integers");
            }

            shape[d++] = size;
        }

        if (ShapeText.ElementCount(shape) is < 0 or > int.MaxValue / 8)
        {
            return ServingError.InvalidArgument($"input '{name}': shape {ShapeText.Format(shape)} is too large");
        }

        if (input.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("binary_data_size", out _))
        {
            return new ServingError(ServingErrorCode.Unimplemented, $"input '{name}': the binary tensor data extension is not supported; send 'data' as JSON");
        }

        if (!input.TryGetProperty("data", out var data))
        {
            return ServingError.InvalidArgument($"input '{name}': 'data' is required");
        }

        var tensor = JsonTensorReader.ReadData(name, type.Value, shape, data, out var error);
        if (tensor is null)
        {
            return error;
        }

        request.Inputs.Add(tensor);
        return null;
    }

    public ServingError? CheckOutputs(ParsedInferenceRequest request, InferenceTensor[] outputs) => null;

    public void WriteResponse(Utf8JsonWriter writer, ModelVersion version, ParsedInferenceRequest request, InferenceTensor[] outputs)
    {
        writer.WriteStartObject();
        writer.WriteString("model_name", version.ModelName);
        writer.WriteString("model_version", version.Version.ToString(CultureInfo.InvariantCulture));
        if (request.Id is not null)
        {
            writer.WriteString("id", request.Id);
        }

        writer.WriteStartArray("outputs");
        foreach (var output in outputs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", output.Name);
            writer.WriteString("datatype", output.DataType.ToOpenInferenceName());
            writer.WriteStartArray("shape");
            foreach (var dim in output.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            writer.WritePropertyName("data");
            JsonTensorWriter.WriteFlat(writer, output, 0, output.ElementCount);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
