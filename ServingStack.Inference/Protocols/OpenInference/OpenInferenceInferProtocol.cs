using System.Globalization;
using System.Text.Json;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.OpenInference;

/// <summary>
/// The Open Inference Protocol (KServe v2) infer body: <c>inputs</c> with name, shape, datatype and flat or nested
/// <c>data</c>; optional <c>outputs</c> to choose from; <c>id</c> echoed back; <c>parameters</c> accepted. With Triton's
/// binary tensor data extension an input's data may instead follow the JSON as raw bytes (<c>binary_data_size</c>), and
/// outputs may be asked for the same way (<c>binary_data</c>, <c>binary_data_output</c>).
/// </summary>
public sealed class OpenInferenceInferProtocol : IJsonInferenceProtocol
{
    private const string BinaryDataSize = "binary_data_size";

    public static OpenInferenceInferProtocol Instance { get; } = new();

    public string Name => "v2_rest";

    public bool SupportsBinaryTensorData => true;

    public ServingError? ReadRequest(JsonElement root, OnnxModelSession session, ParsedInferenceRequest request)
    {
        if (root.ValueKind == JsonValueKind.Undefined)
        {
            return ReadRawBinary(session, request);
        }

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

        if (root.TryGetProperty("parameters", out var parameters))
        {
            if (parameters.ValueKind != JsonValueKind.Object)
            {
                return ServingError.InvalidArgument("'parameters' must be an object");
            }

            var error = ReadFlag(parameters, "binary_data_output", "parameters", out var binaryOutputs);
            if (error is not null)
            {
                return error;
            }

            request.BinaryOutputsByDefault = binaryOutputs ?? false;
        }

        if (!root.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
        {
            return ServingError.InvalidArgument("'inputs' must be a non-empty list of {name, shape, datatype, data}");
        }

        // Every binary size is checked against the bytes actually sent before any input is read or allocated.
        var sizeError = CheckBinarySizes(inputs, request);
        if (sizeError is not null)
        {
            return sizeError;
        }

        var index = 0;
        var offset = 0;
        foreach (var input in inputs.EnumerateArray())
        {
            var error = ReadInput(input, $"inputs[{index}]", request, ref offset);
            if (error is not null)
            {
                return error;
            }

            index++;
        }

        return root.TryGetProperty("outputs", out var outputs) ? ReadOutputs(outputs, request) : null;
    }

    private static ServingError? ReadOutputs(JsonElement outputs, ParsedInferenceRequest request)
    {
        if (outputs.ValueKind != JsonValueKind.Array)
        {
            return ServingError.InvalidArgument("'outputs' must be a list of {name, parameters?}");
        }

        request.RequestedOutputs = [];
        request.RequestedOutputsBinary = [];
        var index = 0;
        foreach (var output in outputs.EnumerateArray())
        {
            if (output.ValueKind != JsonValueKind.Object || !output.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                return ServingError.InvalidArgument($"outputs[{index}] must be an object with a string 'name'");
            }

            var where = $"output '{ClientText.Cut(name.GetString())}'";
            bool? binary = null;
            if (output.TryGetProperty("parameters", out var parameters))
            {
                if (parameters.ValueKind != JsonValueKind.Object)
                {
                    return ServingError.InvalidArgument($"{where}: 'parameters' must be an object");
                }

                var error = ReadFlag(parameters, "binary_data", where, out binary);
                if (error is not null)
                {
                    return error;
                }

                if (parameters.TryGetProperty("classification", out var classes) && !(classes.ValueKind == JsonValueKind.Number && classes.TryGetInt64(out var k) && k == 0))
                {
                    return new ServingError(ServingErrorCode.Unimplemented,
                        $"{where}: Triton's classification extension ('classification' parameter) is not supported; ask for the output itself");
                }
            }

            request.RequestedOutputs.Add(name.GetString()!);
            request.RequestedOutputsBinary.Add(binary);
            index++;
        }

        return null;
    }

    /// <summary>Reads an optional boolean parameter; anything but true or false is the client's mistake.</summary>
    private static ServingError? ReadFlag(JsonElement parameters, string name, string where, out bool? value)
    {
        value = null;
        if (!parameters.TryGetProperty(name, out var flag))
        {
            return null;
        }

        if (flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return ServingError.InvalidArgument($"{where}: parameter '{name}' must be true or false");
        }

        value = flag.ValueKind == JsonValueKind.True;
        return null;
    }

    /// <summary>
    /// Checks every input's <c>binary_data_size</c> (a non-negative integer; only with a binary part) and that together
    /// they account for exactly the bytes after the JSON part.
    /// </summary>
    private static ServingError? CheckBinarySizes(JsonElement inputs, ParsedInferenceRequest request)
    {
        long total = 0;
        var available = request.BinaryData.Length;
        var index = 0;
        foreach (var input in inputs.EnumerateArray())
        {
            var error = ReadBinarySize(input, $"inputs[{index}]", request, out var size);
            if (error is not null)
            {
                return error;
            }

            if (size is { } bytes)
            {
                if (bytes > available - total)
                {
                    return ServingError.InvalidArgument(
                        $"{Describe(input, index)}: {BinaryDataSize} is {bytes} but only {available - total} bytes of the body's {available} bytes of binary data are left for it");
                }

                total += bytes;
            }

            index++;
        }

        if (request.HasBinaryPart && total != available)
        {
            return ServingError.InvalidArgument(
                $"the body has {available} bytes of binary data after its JSON part ({BinaryTensorData.HeaderLengthHeader}) but the inputs' {BinaryDataSize} values add up to {total}");
        }

        return null;
    }

    /// <summary>An input's <c>binary_data_size</c> parameter, null when it has none.</summary>
    private static ServingError? ReadBinarySize(JsonElement input, string where, ParsedInferenceRequest request, out long? size)
    {
        size = null;
        if (input.ValueKind != JsonValueKind.Object || !input.TryGetProperty("parameters", out var parameters))
        {
            return null;
        }

        if (parameters.ValueKind != JsonValueKind.Object)
        {
            return ServingError.InvalidArgument($"{Describe(input, where)}: 'parameters' must be an object");
        }

        if (!parameters.TryGetProperty(BinaryDataSize, out var value))
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var bytes) || bytes < 0)
        {
            return ServingError.InvalidArgument(
                $"{Describe(input, where)}: {BinaryDataSize} must be a non-negative integer number of bytes, not {ClientText.Cut(value.GetRawText())}");
        }

        if (!request.HasBinaryPart)
        {
            return ServingError.InvalidArgument(
                $"{Describe(input, where)} has {BinaryDataSize} but the request has no {BinaryTensorData.HeaderLengthHeader} header, so its body holds no binary data; send that header with the length of the JSON part");
        }

        size = bytes;
        return null;
    }

    private static string Describe(JsonElement input, int index) => Describe(input, $"inputs[{index}]");

    private static string Describe(JsonElement input, string where) =>
        input.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? $"input '{ClientText.Cut(name.GetString())}'"
            : where;

    private static ServingError? ReadInput(JsonElement input, string where, ParsedInferenceRequest request, ref int offset)
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
        var shown = ClientText.Cut(name);
        if (!input.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String)
        {
            return ServingError.InvalidArgument($"input '{shown}': 'datatype' is required (BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES)");
        }

        if (!TensorDataTypes.TryParseOpenInferenceName(datatype.GetString(), out var type))
        {
            return ServingError.InvalidArgument(
                $"input '{shown}': unknown datatype '{ClientText.Cut(datatype.GetString())}' (expected BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64 or BYTES)");
        }

        if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            return ServingError.InvalidArgument($"input '{shown}': 'shape' is required and must be a list of non-negative integers");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var size) || size < 0)
            {
                return ServingError.InvalidArgument(
                    $"input '{shown}': shape {ClientText.Cut(shapeElement.GetRawText())} must be a list of non-negative integers; dimension {d} is {ClientText.Cut(dim.GetRawText())}");
            }

            shape[d++] = size;
        }

        // The element count must fit the pooled buffers' int lengths; whether the body holds that many values is checked
        // by the readers below before they allocate.
        if (ShapeText.ElementCount(shape) is < 0 or > int.MaxValue / 8)
        {
            return ServingError.InvalidArgument($"input '{shown}': shape {ShapeText.Format(shape)} is too large (more than {int.MaxValue / 8} elements)");
        }

        ReadBinarySize(input, where, request, out var binarySize);
        var hasData = input.TryGetProperty("data", out var data);
        InferenceTensor? tensor;
        ServingError? error;
        if (binarySize is { } bytes)
        {
            if (hasData)
            {
                return ServingError.InvalidArgument($"input '{shown}' has both 'data' and {BinaryDataSize}; send its values one way");
            }

            tensor = BinaryTensorData.Read(name, type.Value, shape, request.BinaryData.Span.Slice(offset, (int)bytes), out error);
            offset += (int)bytes;
        }
        else if (!hasData)
        {
            return ServingError.InvalidArgument($"input '{shown}': 'data' is required (or, with binary tensor data, parameters.{BinaryDataSize})");
        }
        else
        {
            tensor = JsonTensorReader.ReadData(name, type.Value, shape, data, out error);
        }

        if (tensor is null)
        {
            return error;
        }

        request.Inputs.Add(tensor);
        return null;
    }

    /// <summary>
    /// Triton's raw binary request (<c>Inference-Header-Content-Length: 0</c>): the body is the data of the model's only
    /// input, whose shape must be fixed but for at most one variable dimension, deduced from the body's length. Every
    /// output comes back as binary tensor data.
    /// </summary>
    private static ServingError? ReadRawBinary(OnnxModelSession session, ParsedInferenceRequest request)
    {
        const string what = $"a raw binary request ({BinaryTensorData.HeaderLengthHeader}: 0, the whole body is one input's data)";
        if (session.Inputs.Count != 1)
        {
            return ServingError.InvalidArgument(
                $"{what} needs a model with one input, but this one has {session.Inputs.Count}: {ModelInvoker.Describe(session.Inputs)}; send a JSON part naming them");
        }

        var spec = session.Inputs[0];
        if (spec.DataType == TensorDataType.Bytes)
        {
            return ServingError.InvalidArgument($"{what} cannot carry the BYTES input '{spec.Name}'; send a JSON part with its shape");
        }

        var shape = (long[])spec.Shape.Clone();
        long rowBytes = spec.DataType.ElementSize();
        var variable = -1;
        for (var d = 0; d < shape.Length; d++)
        {
            if (shape[d] >= 0)
            {
                rowBytes *= shape[d];
            }
            else if (variable < 0)
            {
                variable = d;
            }
            else
            {
                return ServingError.InvalidArgument(
                    $"{what}: input '{spec.Name}' has shape {spec.FormatShape()}, with more than one variable dimension, so the body's length cannot give its shape; send a JSON part with the shape");
            }
        }

        var length = request.BinaryData.Length;
        if (variable >= 0)
        {
            if (rowBytes == 0 || length % rowBytes != 0)
            {
                return ServingError.InvalidArgument(
                    $"{what}: the body has {length} bytes, which is not a whole number of {rowBytes}-byte steps of dimension {variable} of input '{spec.Name}' {spec.FormatShape()} ({spec.DataType.ToOpenInferenceName()})");
            }

            shape[variable] = length / rowBytes;
        }

        var tensor = BinaryTensorData.Read(spec.Name, spec.DataType, shape, request.BinaryData.Span, out var error);
        if (tensor is null)
        {
            return error;
        }

        request.Inputs.Add(tensor);
        request.BinaryOutputsByDefault = true;
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
        for (var i = 0; i < outputs.Length; i++)
        {
            var output = outputs[i];
            writer.WriteStartObject();
            writer.WriteString("name", output.Name);
            writer.WriteString("datatype", output.DataType.ToOpenInferenceName());
            writer.WriteStartArray("shape");
            foreach (var dim in output.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            if (request.IsBinaryOutput(i))
            {
                // The bytes follow the JSON part, in output order.
                writer.WriteStartObject("parameters");
                writer.WriteNumber(BinaryDataSize, BinaryTensorData.ByteCount(output));
                writer.WriteEndObject();
            }
            else
            {
                writer.WritePropertyName("data");
                JsonTensorWriter.WriteFlat(writer, output, 0, output.ElementCount);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
