using System.Buffers.Binary;
using System.Text.Json;
using Google.Protobuf.Collections;
using ServingStack.Bench.Inputs;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using Tensorflow;

namespace ServingStack.Bench.Remote;

/// <summary>
/// Reads outputs off each protocol's wire format into <see cref="DecodedTensor"/>s, so a probe can check one protocol's
/// answer against another's element by element. Numeric tensors only; the probe never runs on the hot path.
/// </summary>
public static class OutputDecoder
{
    /// <summary>Raw little-endian bytes (gRPC raw contents, Triton binary data, TF Serving tensor_content).</summary>
    public static double[] FromRaw(string datatype, ReadOnlySpan<byte> raw)
    {
        var size = Datatypes.SizeOf(datatype);
        if (size == 0 || raw.Length % size != 0)
        {
            throw new InvalidDataException($"{raw.Length} raw bytes are not a whole number of {datatype} elements.");
        }

        var values = new double[raw.Length / size];
        for (var i = 0; i < values.Length; i++)
        {
            var e = raw.Slice(i * size, size);
            values[i] = datatype switch
            {
                Datatypes.Bool or "UINT8" => e[0],
                "INT8" => (sbyte)e[0],
                "INT16" => BinaryPrimitives.ReadInt16LittleEndian(e),
                "UINT16" => BinaryPrimitives.ReadUInt16LittleEndian(e),
                "INT32" => BinaryPrimitives.ReadInt32LittleEndian(e),
                "UINT32" => BinaryPrimitives.ReadUInt32LittleEndian(e),
                "INT64" => BinaryPrimitives.ReadInt64LittleEndian(e),
                "UINT64" => BinaryPrimitives.ReadUInt64LittleEndian(e),
                Datatypes.Fp16 => (double)BinaryPrimitives.ReadHalfLittleEndian(e),
                Datatypes.Bf16 => BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(e) << 16),
                Datatypes.Fp32 => BinaryPrimitives.ReadSingleLittleEndian(e),
                _ => BinaryPrimitives.ReadDoubleLittleEndian(e),
            };
        }

        return values;
    }

    /// <summary>An Open Inference JSON output: <c>data</c> flat or nested, row-major.</summary>
    public static DecodedTensor FromJson(JsonElement output)
    {
        var values = new List<double>();
        Flatten(output.GetProperty("data"), values);
        return new DecodedTensor(
            output.GetProperty("name").GetString()!,
            [.. output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())],
            [.. values]);
    }

    /// <summary>A ModelInfer output, from raw_output_contents when the response has them, else its typed contents.</summary>
    public static DecodedTensor FromModelInfer(ModelInferResponse response, int index)
    {
        ArgumentNullException.ThrowIfNull(response);
        var output = response.Outputs[index];
        double[] values;
        if (response.RawOutputContents.Count > 0)
        {
            values = FromRaw(output.Datatype, response.RawOutputContents[index].Span);
        }
        else
        {
            var c = output.Contents;
            values = c.Fp32Contents.Count > 0 ? [.. c.Fp32Contents.Select(v => (double)v)]
                : c.Fp64Contents.Count > 0 ? [.. c.Fp64Contents]
                : c.IntContents.Count > 0 ? [.. c.IntContents.Select(v => (double)v)]
                : c.Int64Contents.Count > 0 ? [.. c.Int64Contents.Select(v => (double)v)]
                : c.UintContents.Count > 0 ? [.. c.UintContents.Select(v => (double)v)]
                : c.Uint64Contents.Count > 0 ? [.. c.Uint64Contents.Select(v => (double)v)]
                : [.. c.BoolContents.Select(v => v ? 1.0 : 0.0)];
        }

        return new DecodedTensor(output.Name, [.. output.Shape], values);
    }

    /// <summary>A TF Serving TensorProto: tensor_content when set, else the typed <c>*_val</c> field of its dtype.</summary>
    public static DecodedTensor FromTensorProto(string name, TensorProto tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var shape = tensor.TensorShape?.Dim.Select(d => d.Size).ToArray() ?? [];
        var datatype = TensorFlowTypes.ToDatatype(tensor.Dtype);
        double[] values = !tensor.TensorContent.IsEmpty
            ? FromRaw(datatype, tensor.TensorContent.Span)
            : tensor.Dtype switch
            {
                DataType.DtFloat => Widen(tensor.FloatVal, v => v),
                DataType.DtDouble => [.. tensor.DoubleVal],
                DataType.DtInt64 => Widen(tensor.Int64Val, v => v),
                DataType.DtUint32 => Widen(tensor.Uint32Val, v => v),
                DataType.DtUint64 => Widen(tensor.Uint64Val, v => v),
                DataType.DtBool => Widen(tensor.BoolVal, v => v ? 1 : 0),
                DataType.DtHalf => Widen(tensor.HalfVal, v => (double)BitConverter.UInt16BitsToHalf((ushort)v)),
                DataType.DtBfloat16 => Widen(tensor.HalfVal, v => BitConverter.UInt32BitsToSingle((uint)v << 16)),
                _ => Widen(tensor.IntVal, v => v),
            };
        return new DecodedTensor(name, shape, values);
    }

    /// <summary>
    /// Null when <paramref name="actual"/> holds the same outputs as <paramref name="expected"/> (names, shapes, every
    /// element within 1e-6 + 1e-5 relative), else the first difference.
    /// </summary>
    public static string? Compare(IReadOnlyList<DecodedTensor> expected, IReadOnlyList<DecodedTensor> actual)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        foreach (var want in expected)
        {
            var got = actual.FirstOrDefault(a => a.Name == want.Name);
            if (got is null)
            {
                return $"output '{want.Name}' is missing (got {string.Join(", ", actual.Select(a => a.Name))})";
            }

            if (!got.Shape.SequenceEqual(want.Shape))
            {
                return $"output '{want.Name}' has shape [{string.Join(',', got.Shape)}], expected [{string.Join(',', want.Shape)}]";
            }

            if (got.Values.Length != want.Values.Length)
            {
                return $"output '{want.Name}' has {got.Values.Length} values, expected {want.Values.Length}";
            }

            for (var i = 0; i < want.Values.Length; i++)
            {
                var (w, g) = (want.Values[i], got.Values[i]);
                if (!(Math.Abs(w - g) <= 1e-6 + (1e-5 * Math.Abs(w))) && !(double.IsNaN(w) && double.IsNaN(g)) && w != g)
                {
                    return $"output '{want.Name}' element {i} is {g}, expected {w}";
                }
            }
        }

        return actual.Count == expected.Count ? null : $"{actual.Count} outputs, expected {expected.Count}";
    }

    private static double[] Widen<T>(RepeatedField<T> field, Func<T, double> convert)
    {
        var values = new double[field.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = convert(field[i]);
        }

        return values;
    }

    private static void Flatten(JsonElement element, List<double> values)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, values);
            }

            return;
        }

        values.Add(element.ValueKind switch
        {
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            JsonValueKind.String => double.Parse(element.GetString()!, System.Globalization.CultureInfo.InvariantCulture),
            _ => element.GetDouble(),
        });
    }
}
