using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using ServingStack.Bench.Inputs;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Bench.Remote;

/// <summary>
/// Serializes inputs once per step into what each protocol sends, so a run measures the server and not this tool's
/// encoders.
/// </summary>
public static class RequestEncoder
{
    /// <summary>Open Inference REST: <c>{"inputs":[{"name","shape","datatype","data":[flat]}]}</c>.</summary>
    public static byte[] OpenInferenceJson(IReadOnlyList<InputTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("inputs");
            foreach (var input in inputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", input.Name);
                writer.WriteStartArray("shape");
                foreach (var dim in input.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteString("datatype", input.Datatype);
                writer.WriteStartArray("data");
                for (var i = 0; i < input.ElementCount; i++)
                {
                    WriteElement(writer, input, i);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// TF Serving row format: <c>{"instances":[row, ...]}</c>, each row the input's nested values for one index of dim 0
    /// (with several inputs, an object naming each).
    /// </summary>
    public static byte[] TfServingRowsJson(IReadOnlyList<InputTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Any(i => i.Shape.Length == 0))
        {
            throw new InvalidOperationException("The TF Serving row format needs inputs with a batch dimension; use --rest-format v2.");
        }

        var rows = inputs[0].Rows;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("instances");
            for (var row = 0; row < rows; row++)
            {
                if (inputs.Count == 1)
                {
                    WriteRow(writer, inputs[0], row);
                    continue;
                }

                writer.WriteStartObject();
                foreach (var input in inputs)
                {
                    writer.WritePropertyName(input.Name);
                    WriteRow(writer, input, row);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// A gRPC ModelInferRequest: typed <c>contents</c> per input, or <c>raw_input_contents</c> (little-endian elements;
    /// BYTES each with a 4-byte little-endian length) when <paramref name="raw"/> is set.
    /// </summary>
    public static ModelInferRequest Grpc(string model, string? version, IReadOnlyList<InputTensor> inputs, bool raw)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var request = new ModelInferRequest { ModelName = model, ModelVersion = version ?? string.Empty };
        foreach (var input in inputs)
        {
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = input.Datatype };
            tensor.Shape.Add(input.Shape);
            if (raw)
            {
                request.RawInputContents.Add(UnsafeByteOperations.UnsafeWrap(RawBytes(input)));
            }
            else
            {
                tensor.Contents = TypedContents(input);
            }

            request.Inputs.Add(tensor);
        }

        return request;
    }

    /// <summary>
    /// Open Inference REST with Triton's binary tensor extension: a JSON header naming each input with
    /// <c>parameters.binary_data_size</c> and asking for every output with <c>binary_data: true</c>, followed by the
    /// inputs' raw bytes in order. <paramref name="headerLength"/> is what <c>Inference-Header-Content-Length</c> says.
    /// </summary>
    public static byte[] OpenInferenceBinary(IReadOnlyList<InputTensor> inputs, IReadOnlyList<string> outputs, out int headerLength)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        var raw = inputs.Select(RawBytes).ToArray();
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("inputs");
            for (var i = 0; i < inputs.Count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("name", inputs[i].Name);
                writer.WriteStartArray("shape");
                foreach (var dim in inputs[i].Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteString("datatype", inputs[i].Datatype);
                writer.WriteStartObject("parameters");
                writer.WriteNumber("binary_data_size", raw[i].Length);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("outputs");
            foreach (var output in outputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", output);
                writer.WriteStartObject("parameters");
                writer.WriteBoolean("binary_data", true);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        headerLength = checked((int)buffer.Length);
        foreach (var bytes in raw)
        {
            buffer.Write(bytes);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// A TF Serving gRPC PredictRequest: each input a TensorProto with its raw little-endian bytes in
    /// <c>tensor_content</c> when <paramref name="tensorContent"/> is set (BYTES inputs always use <c>string_val</c>), else
    /// in the typed <c>*_val</c> field of its dtype.
    /// </summary>
    public static PredictRequest TfServingPredict(string model, string? version, IReadOnlyList<InputTensor> inputs, bool tensorContent)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = model } };
        if (version is not null)
        {
            request.ModelSpec.Version = long.Parse(version, System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var input in inputs)
        {
            var tensor = new TensorProto { Dtype = TensorFlowTypes.FromDatatype(input.Datatype), TensorShape = new TensorShapeProto() };
            foreach (var dim in input.Shape)
            {
                tensor.TensorShape.Dim.Add(new TensorShapeProto.Types.Dim { Size = dim });
            }

            if (input.Strings is { } strings)
            {
                tensor.StringVal.Add(strings.Select(ByteString.CopyFromUtf8));
            }
            else if (tensorContent)
            {
                tensor.TensorContent = UnsafeByteOperations.UnsafeWrap(RawBytes(input));
            }
            else
            {
                TypedTfValues(input, tensor);
            }

            request.Inputs.Add(input.Name, tensor);
        }

        return request;
    }

    /// <summary>The raw little-endian bytes of <paramref name="input"/>, as raw_input_contents carries them.</summary>
    public static byte[] RawBytes(InputTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Strings is { } strings)
        {
            var encoded = strings.Select(Encoding.UTF8.GetBytes).ToArray();
            var bytes = new byte[encoded.Sum(e => 4 + e.Length)];
            var offset = 0;
            foreach (var element in encoded)
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), element.Length);
                element.CopyTo(bytes, offset + 4);
                offset += 4 + element.Length;
            }

            return bytes;
        }

        var numbers = input.Numbers!;
        var size = Datatypes.SizeOf(input.Datatype);
        var raw = new byte[numbers.Length * size];
        for (var i = 0; i < numbers.Length; i++)
        {
            var span = raw.AsSpan(i * size, size);
            var value = numbers[i];
            switch (input.Datatype)
            {
                case Datatypes.Bool: span[0] = value != 0 ? (byte)1 : (byte)0; break;
                case "INT8": span[0] = unchecked((byte)(sbyte)value); break;
                case "UINT8": span[0] = (byte)value; break;
                case "INT16": BinaryPrimitives.WriteInt16LittleEndian(span, (short)value); break;
                case "UINT16": BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
                case "INT32": BinaryPrimitives.WriteInt32LittleEndian(span, (int)value); break;
                case "UINT32": BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value); break;
                case "INT64": BinaryPrimitives.WriteInt64LittleEndian(span, (long)value); break;
                case "UINT64": BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)value); break;
                case Datatypes.Fp16: BinaryPrimitives.WriteHalfLittleEndian(span, (Half)value); break;
                case Datatypes.Bf16: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)(BitConverter.SingleToUInt32Bits((float)value) >> 16)); break;
                case Datatypes.Fp32: BinaryPrimitives.WriteSingleLittleEndian(span, (float)value); break;
                case Datatypes.Fp64: BinaryPrimitives.WriteDoubleLittleEndian(span, value); break;
                default: throw new InvalidOperationException($"Input '{input.Name}' has datatype '{input.Datatype}', which has no raw encoding.");
            }
        }

        return raw;
    }

    private static InferTensorContents TypedContents(InputTensor input)
    {
        var contents = new InferTensorContents();
        if (input.Strings is { } strings)
        {
            contents.BytesContents.Add(strings.Select(ByteString.CopyFromUtf8));
            return contents;
        }

        var numbers = input.Numbers!;
        switch (input.Datatype)
        {
            case Datatypes.Bool: contents.BoolContents.Add(numbers.Select(n => n != 0)); break;
            case "INT8" or "INT16" or "INT32": contents.IntContents.Add(numbers.Select(n => (int)n)); break;
            case "INT64": contents.Int64Contents.Add(numbers.Select(n => (long)n)); break;
            case "UINT8" or "UINT16" or "UINT32": contents.UintContents.Add(numbers.Select(n => (uint)n)); break;
            case "UINT64": contents.Uint64Contents.Add(numbers.Select(n => (ulong)n)); break;
            case Datatypes.Fp32: contents.Fp32Contents.Add(numbers.Select(n => (float)n)); break;
            case Datatypes.Fp64: contents.Fp64Contents.Add(numbers); break;
            default:
                throw new InvalidOperationException(
                    $"Input '{input.Name}' is {input.Datatype}, which gRPC typed contents can't carry; use --raw.");
        }

        return contents;
    }

    private static void TypedTfValues(InputTensor input, TensorProto tensor)
    {
        var numbers = input.Numbers!;
        switch (input.Datatype)
        {
            case Datatypes.Fp32: tensor.FloatVal.Add(numbers.Select(n => (float)n)); break;
            case Datatypes.Fp64: tensor.DoubleVal.Add(numbers); break;
            case "INT64": tensor.Int64Val.Add(numbers.Select(n => (long)n)); break;
            case "UINT32": tensor.Uint32Val.Add(numbers.Select(n => (uint)n)); break;
            case "UINT64": tensor.Uint64Val.Add(numbers.Select(n => (ulong)n)); break;
            case Datatypes.Bool: tensor.BoolVal.Add(numbers.Select(n => n != 0)); break;
            case Datatypes.Fp16: tensor.HalfVal.Add(numbers.Select(n => (int)BitConverter.HalfToUInt16Bits((Half)n))); break;
            case Datatypes.Bf16: tensor.HalfVal.Add(numbers.Select(n => (int)(BitConverter.SingleToUInt32Bits((float)n) >> 16))); break;
            default: tensor.IntVal.Add(numbers.Select(n => (int)n)); break;
        }
    }

    private static void WriteRow(Utf8JsonWriter writer, InputTensor input, int row)
    {
        var rowSize = input.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        var offset = checked((int)(row * rowSize));
        WriteNested(writer, input, input.Shape.AsSpan(1), ref offset);
    }

    private static void WriteNested(Utf8JsonWriter writer, InputTensor input, ReadOnlySpan<long> dims, ref int offset)
    {
        if (dims.IsEmpty)
        {
            WriteElement(writer, input, offset++);
            return;
        }

        writer.WriteStartArray();
        for (var i = 0; i < dims[0]; i++)
        {
            WriteNested(writer, input, dims[1..], ref offset);
        }

        writer.WriteEndArray();
    }

    private static void WriteElement(Utf8JsonWriter writer, InputTensor input, int index)
    {
        if (input.Strings is { } strings)
        {
            writer.WriteStringValue(strings[index]);
            return;
        }

        var value = input.Numbers![index];
        switch (input.Datatype)
        {
            case Datatypes.Bool: writer.WriteBooleanValue(value != 0); break;
            case Datatypes.Fp32 or Datatypes.Fp16 or Datatypes.Bf16: writer.WriteNumberValue((float)value); break;
            case Datatypes.Fp64: writer.WriteNumberValue(value); break;
            case "UINT64": writer.WriteNumberValue((ulong)value); break;
            default: writer.WriteNumberValue((long)value); break;
        }
    }
}
