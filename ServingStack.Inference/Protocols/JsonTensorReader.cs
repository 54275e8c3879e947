using System.Text;
using System.Text.Json;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// Turns JSON values (nested lists, flat lists, scalars) into tensors of a given datatype, checking every element:
/// ragged lists, wrong kinds of value and out-of-range integers come back as an error naming the input and position.
/// </summary>
public static class JsonTensorReader
{
    /// <summary>The shape a nested list implies, read along its first elements.</summary>
    public static long[] InferShape(JsonElement value)
    {
        var shape = new List<long>();
        while (value.ValueKind == JsonValueKind.Array)
        {
            var length = value.GetArrayLength();
            shape.Add(length);
            if (length == 0)
            {
                break;
            }

            value = value[0];
        }

        return [.. shape];
    }

    /// <summary>Reads one nested value whose shape is <see cref="InferShape"/>'s.</summary>
    public static InferenceTensor? ReadNested(string name, TensorDataType type, JsonElement value, out ServingError? error)
    {
        var shape = InferShape(value);
        var leaves = value.ValueKind == JsonValueKind.Array ? CountLeaves(value) : 1;
        return FillNew(name, type, shape, leaves, (InferenceTensor? t, ref int index, out ServingError? e) => Fill(t, name, value, shape, 0, ref index, out e), out error);
    }

    /// <summary>
    /// Reads TF Serving's row format: one nested value per instance, stacked along a new dimension 0.
    /// <paramref name="select"/> picks this input's value out of an instance.
    /// </summary>
    public static InferenceTensor? ReadRows(string name, TensorDataType type, JsonElement instances, Func<JsonElement, JsonElement> select, out ServingError? error)
    {
        var count = instances.GetArrayLength();
        var rowShape = InferShape(select(instances[0]));
        var shape = new long[rowShape.Length + 1];
        shape[0] = count;
        rowShape.CopyTo(shape, 1);
        long leaves = 0;
        foreach (var instance in instances.EnumerateArray())
        {
            var value = select(instance);
            leaves += value.ValueKind == JsonValueKind.Array ? CountLeaves(value) : 1;
        }

        return FillNew(name, type, shape, leaves, (InferenceTensor? t, ref int index, out ServingError? e) =>
        {
            foreach (var instance in instances.EnumerateArray())
            {
                if (!Fill(t, name, select(instance), shape, 1, ref index, out e))
                {
                    return false;
                }
            }

            e = null;
            return true;
        }, out error);
    }

    private delegate bool FillAction(InferenceTensor? tensor, ref int index, out ServingError? error);

    /// <summary>
    /// Allocates only when the values fill the shape exactly; otherwise walks the lists without a tensor to say where
    /// they are ragged. A huge first row over tiny later rows therefore never costs a huge buffer.
    /// </summary>
    private static InferenceTensor? FillNew(string name, TensorDataType type, long[] shape, long leaves, FillAction fill, out ServingError? error)
    {
        var index = 0;
        if (leaves != ShapeText.ElementCount(shape))
        {
            fill(null, ref index, out error);
            error ??= ServingError.InvalidArgument($"input '{name}' is ragged: its lists do not fill shape {ShapeText.Format(shape)}");
            return null;
        }

        var tensor = InferenceTensor.Allocate(name, type, shape);
        if (!fill(tensor, ref index, out error))
        {
            tensor.Dispose();
            return null;
        }

        return tensor;
    }

    /// <summary>Reads Open Inference <c>data</c>, flat or nested, into the declared <paramref name="shape"/>.</summary>
    public static InferenceTensor? ReadData(string name, TensorDataType type, long[] shape, JsonElement data, out ServingError? error)
    {
        var expected = ShapeText.ElementCount(shape);
        if (data.ValueKind == JsonValueKind.Array)
        {
            // Count before allocating: a huge shape with little data must not cost a huge buffer.
            var count = CountLeaves(data);
            if (count != expected)
            {
                error = ServingError.InvalidArgument(
                    $"input '{name}': shape {ShapeText.Format(shape)} needs {expected} values but 'data' has {count}");
                return null;
            }
        }

        var tensor = InferenceTensor.Allocate(name, type, shape);
        var index = 0;
        if (data.ValueKind != JsonValueKind.Array)
        {
            if (expected != 1 || !WriteElement(tensor, data, 0, out var problem))
            {
                error = ServingError.InvalidArgument($"input '{name}': 'data' must be a list of {expected} {type.ToOpenInferenceName()} values");
                tensor.Dispose();
                return null;
            }

            error = null;
            return tensor;
        }

        if (!FillFlat(tensor, data, ref index, out error))
        {
            tensor.Dispose();
            return null;
        }

        return tensor;
    }

    private static long CountLeaves(JsonElement array)
    {
        long count = 0;
        foreach (var item in array.EnumerateArray())
        {
            count += item.ValueKind == JsonValueKind.Array ? CountLeaves(item) : 1;
        }

        return count;
    }

    private static bool FillFlat(InferenceTensor tensor, JsonElement array, ref int index, out ServingError? error)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                if (!FillFlat(tensor, item, ref index, out error))
                {
                    return false;
                }

                continue;
            }

            if (!WriteElement(tensor, item, index, out var problem))
            {
                error = ServingError.InvalidArgument($"input '{tensor.Name}': element {index} {problem}");
                return false;
            }

            index++;
        }

        error = null;
        return true;
    }

    /// <summary>Checks the lists against <paramref name="shape"/> and writes the values (only checks when <paramref name="tensor"/> is null).</summary>
    private static bool Fill(InferenceTensor? tensor, string name, JsonElement value, long[] shape, int depth, ref int index, out ServingError? error)
    {
        if (depth == shape.Length)
        {
            if (value.ValueKind == JsonValueKind.Array)
            {
                error = Ragged(name, shape, depth, index, "a list where a single value belongs");
                return false;
            }

            if (tensor is not null && !WriteElement(tensor, value, index, out var problem))
            {
                error = ServingError.InvalidArgument($"input '{name}': value at {Position(shape, depth, index)} {problem}");
                return false;
            }

            index++;
            error = null;
            return true;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != shape[depth])
        {
            var found = value.ValueKind == JsonValueKind.Array ? $"a list of {value.GetArrayLength()}" : "a single value";
            error = Ragged(name, shape, depth, index, $"{found} where a list of {shape[depth]} belongs");
            return false;
        }

        foreach (var item in value.EnumerateArray())
        {
            if (!Fill(tensor, name, item, shape, depth + 1, ref index, out error))
            {
                return false;
            }
        }

        error = null;
        return true;
    }

    private static ServingError Ragged(string name, long[] shape, int depth, int index, string what) =>
        ServingError.InvalidArgument(
            $"input '{name}' is ragged: found {what} at {Position(shape, depth, index)}; every list at one depth must have the same length (shape {ShapeText.Format(shape)})");

    /// <summary>Formats where reading stopped as [i][j]: the indices of element <paramref name="index"/> down to <paramref name="depth"/>.</summary>
    private static string Position(long[] shape, int depth, int index)
    {
        var sb = new StringBuilder();
        long remaining = index;
        var indices = new long[shape.Length];
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            var size = Math.Max(shape[d], 1);
            indices[d] = remaining % size;
            remaining /= size;
        }

        for (var d = 0; d < Math.Max(depth, 1) && d < indices.Length; d++)
        {
            sb.Append('[').Append(indices[d]).Append(']');
        }

        return sb.Length == 0 ? "the top level" : sb.ToString();
    }

    /// <summary>Writes one JSON scalar as element <paramref name="index"/>; on failure says what was wrong.</summary>
    public static bool WriteElement(InferenceTensor tensor, JsonElement value, int index, out string? problem)
    {
        problem = null;
        var type = tensor.DataType;
        switch (type)
        {
            case TensorDataType.Fp32:
                if (!TryReadFloat(value, out var f))
                {
                    break;
                }

                tensor.GetSpan<float>()[index] = (float)f;
                return true;
            case TensorDataType.Fp64:
                if (!TryReadFloat(value, out var d))
                {
                    break;
                }

                tensor.GetSpan<double>()[index] = d;
                return true;
            case TensorDataType.Fp16:
                if (!TryReadFloat(value, out var h))
                {
                    break;
                }

                tensor.GetSpan<Half>()[index] = (Half)h;
                return true;
            case TensorDataType.Bf16:
                if (!TryReadFloat(value, out var b))
                {
                    break;
                }

                tensor.GetSpan<ushort>()[index] = ToBFloat16((float)b);
                return true;
            case TensorDataType.Bool:
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    break;
                }

                tensor.Bytes[index] = value.ValueKind == JsonValueKind.True ? (byte)1 : (byte)0;
                return true;
            case TensorDataType.Bytes:
                if (value.ValueKind == JsonValueKind.String)
                {
                    tensor.Strings![index] = value.GetString()!;
                    return true;
                }

                if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("b64", out var b64) && b64.ValueKind == JsonValueKind.String)
                {
                    if (!b64.TryGetBytesFromBase64(out var raw))
                    {
                        problem = "has a 'b64' value that is not valid base64";
                        return false;
                    }

                    tensor.Strings![index] = Encoding.UTF8.GetString(raw);
                    return true;
                }

                break;
            case TensorDataType.UInt64:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out var u64))
                {
                    break;
                }

                tensor.GetSpan<ulong>()[index] = u64;
                return true;
            default:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var integer) || !TryWriteInteger(tensor, index, integer))
                {
                    break;
                }

                return true;
        }

        problem = $"{Describe(value)} is not a valid {type.ToOpenInferenceName()}";
        return false;
    }

    private static bool TryWriteInteger(InferenceTensor tensor, int index, long value)
    {
        switch (tensor.DataType)
        {
            case TensorDataType.Int8 when value is >= sbyte.MinValue and <= sbyte.MaxValue:
                tensor.GetSpan<sbyte>()[index] = (sbyte)value;
                return true;
            case TensorDataType.Int16 when value is >= short.MinValue and <= short.MaxValue:
                tensor.GetSpan<short>()[index] = (short)value;
                return true;
            case TensorDataType.Int32 when value is >= int.MinValue and <= int.MaxValue:
                tensor.GetSpan<int>()[index] = (int)value;
                return true;
            case TensorDataType.Int64:
                tensor.GetSpan<long>()[index] = value;
                return true;
            case TensorDataType.UInt8 when value is >= 0 and <= byte.MaxValue:
                tensor.Bytes[index] = (byte)value;
                return true;
            case TensorDataType.UInt16 when value is >= 0 and <= ushort.MaxValue:
                tensor.GetSpan<ushort>()[index] = (ushort)value;
                return true;
            case TensorDataType.UInt32 when value is >= 0 and <= uint.MaxValue:
                tensor.GetSpan<uint>()[index] = (uint)value;
                return true;
            default:
                return false;
        }
    }

    private static bool TryReadFloat(JsonElement value, out double result)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            return value.TryGetDouble(out result);
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            switch (value.GetString())
            {
                case "NaN" or "nan":
                    result = double.NaN;
                    return true;
                case "Infinity" or "inf":
                    result = double.PositiveInfinity;
                    return true;
                case "-Infinity" or "-inf":
                    result = double.NegativeInfinity;
                    return true;
            }
        }

        result = 0;
        return false;
    }

    private static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return 0x7FC0;
        }

        // Round to nearest even on the dropped 16 bits.
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"\"{Truncate(value.GetString()!)}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => Truncate(value.GetRawText()),
    };

    private static string Truncate(string text) => text.Length <= 32 ? text : text[..32] + "…";
}
