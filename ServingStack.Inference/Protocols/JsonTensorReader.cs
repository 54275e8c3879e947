using System.Text;
using System.Text.Json;
using System.Text.Unicode;
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
        return FillNew(name, type, shape, leaves, (InferenceTensor? t, ref int index, out ServingError? e) => Fill(t, name, value, shape, 0, declaredShape: false, ref index, out e), out error);
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
                if (!Fill(t, name, select(instance), shape, 1, declaredShape: false, ref index, out e))
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
            error ??= ServingError.InvalidArgument($"input '{ClientText.Cut(name)}' is ragged: its lists do not fill shape {ShapeText.Format(shape)}");
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

    /// <summary>
    /// Reads Open Inference <c>data</c> into the declared <paramref name="shape"/>: a flat list of every element in
    /// row-major order, or lists nested exactly as the shape (ragged or differently nested lists are refused even when
    /// their element count happens to match). Nothing is allocated until the values are known to fill the shape, so a
    /// huge declared shape with little data costs nothing.
    /// </summary>
    public static InferenceTensor? ReadData(string name, TensorDataType type, long[] shape, JsonElement data, out ServingError? error)
    {
        var expected = ShapeText.ElementCount(shape);
        InferenceTensor tensor;
        if (data.ValueKind != JsonValueKind.Array)
        {
            if (expected != 1)
            {
                error = ServingError.InvalidArgument(
                    $"input '{ClientText.Cut(name)}': shape {ShapeText.Format(shape)} needs {expected} values but 'data' is a single value; send a list");
                return null;
            }

            tensor = InferenceTensor.Allocate(name, type, shape);
            if (!WriteElement(tensor, data, 0, out var problem))
            {
                error = ServingError.InvalidArgument($"input '{ClientText.Cut(name)}': 'data' {problem}");
                tensor.Dispose();
                return null;
            }

            error = null;
            return tensor;
        }

        var index = 0;
        var nested = data.GetArrayLength() > 0 && data[0].ValueKind == JsonValueKind.Array;
        if (nested)
        {
            // Walk the lists against the shape first: it allocates nothing and says where they stop following it.
            if (!Fill(null, name, data, shape, 0, declaredShape: true, ref index, out error))
            {
                return null;
            }
        }
        else if (data.GetArrayLength() != expected)
        {
            error = ServingError.InvalidArgument(
                $"input '{ClientText.Cut(name)}': shape {ShapeText.Format(shape)} needs {expected} values but 'data' has {data.GetArrayLength()}");
            return null;
        }

        tensor = InferenceTensor.Allocate(name, type, shape);
        index = 0;
        var filled = nested
            ? Fill(tensor, name, data, shape, 0, declaredShape: true, ref index, out error)
            : FillFlat(tensor, data, ref index, out error);
        if (!filled)
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

    /// <summary>Writes a flat list of scalars (its first element is not a list, so no element may be).</summary>
    private static bool FillFlat(InferenceTensor tensor, JsonElement array, ref int index, out ServingError? error)
    {
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                error = ServingError.InvalidArgument(
                    $"input '{ClientText.Cut(tensor.Name)}': 'data' element {index} is a list but element 0 is not; send every value in one flat list or nest every list as the shape");
                return false;
            }

            if (!WriteElement(tensor, item, index, out var problem))
            {
                error = ServingError.InvalidArgument($"input '{ClientText.Cut(tensor.Name)}': element {index} {problem}");
                return false;
            }

            index++;
        }

        error = null;
        return true;
    }

    /// <summary>Checks the lists against <paramref name="shape"/> and writes the values (only checks when <paramref name="tensor"/> is null).</summary>
    private static bool Fill(InferenceTensor? tensor, string name, JsonElement value, long[] shape, int depth, bool declaredShape, ref int index, out ServingError? error)
    {
        if (depth == shape.Length)
        {
            if (value.ValueKind == JsonValueKind.Array)
            {
                error = Ragged(name, shape, depth, index, "a list where a single value belongs", declaredShape);
                return false;
            }

            if (tensor is not null && !WriteElement(tensor, value, index, out var problem))
            {
                error = ServingError.InvalidArgument($"input '{ClientText.Cut(name)}': value at {Position(shape, depth, index)} {problem}");
                return false;
            }

            index++;
            error = null;
            return true;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() != shape[depth])
        {
            var found = value.ValueKind == JsonValueKind.Array ? $"a list of {value.GetArrayLength()}" : "a single value";
            error = Ragged(name, shape, depth, index, $"{found} where a list of {shape[depth]} belongs", declaredShape);
            return false;
        }

        foreach (var item in value.EnumerateArray())
        {
            if (!Fill(tensor, name, item, shape, depth + 1, declaredShape, ref index, out error))
            {
                return false;
            }
        }

        error = null;
        return true;
    }

    private static ServingError Ragged(string name, long[] shape, int depth, int index, string what, bool declaredShape) => declaredShape
        ? ServingError.InvalidArgument(
            $"input '{ClientText.Cut(name)}': nested 'data' does not follow shape {ShapeText.Format(shape)}: found {what} at {Position(shape, depth, index)}; nest the lists exactly as the shape (no ragged lists) or send 'data' flat")
        : ServingError.InvalidArgument(
            $"input '{ClientText.Cut(name)}' is ragged: found {what} at {Position(shape, depth, index)}; every list at one depth must have the same length (shape {ShapeText.Format(shape)})");

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

    /// <summary>
    /// Writes one JSON scalar as element <paramref name="index"/>; on failure says what was wrong. A number must be
    /// representable in the datatype: integers in range (300 is no UINT8, 2.5 no INT32) and floats finite once
    /// converted (1e400 is no FP64, 1e39 no FP32, 70000 no FP16). Non-finite values come only as NaN/Infinity literals.
    /// </summary>
    public static bool WriteElement(InferenceTensor tensor, JsonElement value, int index, out string? problem)
    {
        problem = null;
        var type = tensor.DataType;
        switch (type)
        {
            case TensorDataType.Fp32:
                if (!TryReadFloat(value, type, out var f, ref problem))
                {
                    break;
                }

                var single = (float)f;
                if (float.IsInfinity(single) && double.IsFinite(f))
                {
                    problem = OutOfRange(value, type);
                    return false;
                }

                tensor.GetSpan<float>()[index] = single;
                return true;
            case TensorDataType.Fp64:
                if (!TryReadFloat(value, type, out var d, ref problem))
                {
                    break;
                }

                tensor.GetSpan<double>()[index] = d;
                return true;
            case TensorDataType.Fp16:
                if (!TryReadFloat(value, type, out var h, ref problem))
                {
                    break;
                }

                var half = (Half)h;
                if (Half.IsInfinity(half) && double.IsFinite(h))
                {
                    problem = OutOfRange(value, type);
                    return false;
                }

                tensor.GetSpan<Half>()[index] = half;
                return true;
            case TensorDataType.Bf16:
                if (!TryReadFloat(value, type, out var b, ref problem))
                {
                    break;
                }

                var bf16 = ToBFloat16((float)b);
                if ((bf16 & 0x7FFF) == 0x7F80 && double.IsFinite(b))
                {
                    problem = OutOfRange(value, type);
                    return false;
                }

                tensor.GetSpan<ushort>()[index] = bf16;
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
                    // The body's strings were checked to be valid text before any reader ran (JsonStringValidator).
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

                    // Replacing bytes that are not UTF-8 would hand the model something else than was sent.
                    if (!Utf8.IsValid(raw))
                    {
                        problem = "has a 'b64' value whose bytes are not valid UTF-8; this server keeps BYTES elements as UTF-8 text";
                        return false;
                    }

                    tensor.Strings![index] = Encoding.UTF8.GetString(raw);
                    return true;
                }

                break;
            case TensorDataType.UInt64:
                if (value.ValueKind != JsonValueKind.Number)
                {
                    break;
                }

                if (!value.TryGetUInt64(out var u64))
                {
                    problem = NotInteger(value, type);
                    return false;
                }

                tensor.GetSpan<ulong>()[index] = u64;
                return true;
            default:
                if (value.ValueKind != JsonValueKind.Number)
                {
                    break;
                }

                if (!value.TryGetInt64(out var integer) || !TryWriteInteger(tensor, index, integer))
                {
                    problem = NotInteger(value, type);
                    return false;
                }

                return true;
        }

        problem ??= $"{Describe(value)} is not a valid {type.ToOpenInferenceName()}";
        return false;
    }

    private static string OutOfRange(JsonElement value, TensorDataType type)
    {
        var range = type switch
        {
            TensorDataType.Fp16 => "±65504",
            TensorDataType.Bf16 => "±3.3895314E+38",
            TensorDataType.Fp32 => "±3.4028235E+38",
            _ => "±1.7976931348623157E+308",
        };
        return $"{Describe(value)} is out of range for {type.ToOpenInferenceName()} ({range})";
    }

    /// <summary>Why a JSON number is no value of an integer datatype: a fraction or exponent, or out of its range.</summary>
    private static string NotInteger(JsonElement value, TensorDataType type)
    {
        var (min, max) = type switch
        {
            TensorDataType.Int8 => ("-128", "127"),
            TensorDataType.Int16 => ("-32768", "32767"),
            TensorDataType.Int32 => ("-2147483648", "2147483647"),
            TensorDataType.Int64 => ("-9223372036854775808", "9223372036854775807"),
            TensorDataType.UInt8 => ("0", "255"),
            TensorDataType.UInt16 => ("0", "65535"),
            TensorDataType.UInt32 => ("0", "4294967295"),
            _ => ("0", "18446744073709551615"),
        };
        var raw = value.GetRawText();
        var integral = raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
        return integral
            ? $"{Describe(value)} is out of range for {type.ToOpenInferenceName()} ({min}..{max})"
            : $"{Describe(value)} is not an integer, as {type.ToOpenInferenceName()} needs";
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

    /// <summary>
    /// Reads a number, or the literals NaN, Infinity and -Infinity (quoted by <see cref="NonFiniteJsonLiterals"/> or sent
    /// as strings). A number too large for a double (1e400) is out of range, not infinity.
    /// </summary>
    private static bool TryReadFloat(JsonElement value, TensorDataType type, out double result, ref string? problem)
    {
        if (value.ValueKind == JsonValueKind.Number)
        {
            if (value.TryGetDouble(out result) && double.IsFinite(result))
            {
                return true;
            }

            problem = OutOfRange(value, type);
            return false;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            if (value.ValueEquals("NaN"u8) || value.ValueEquals("nan"u8))
            {
                result = double.NaN;
                return true;
            }

            if (value.ValueEquals("Infinity"u8) || value.ValueEquals("inf"u8))
            {
                result = double.PositiveInfinity;
                return true;
            }

            if (value.ValueEquals("-Infinity"u8) || value.ValueEquals("-inf"u8))
            {
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
