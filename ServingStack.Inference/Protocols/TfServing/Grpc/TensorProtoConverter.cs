using System.Text;
using System.Text.Unicode;
using Google.Protobuf;
using Google.Protobuf.Collections;
using ServingStack.Inference.Protocols.Grpc;
using ServingStack.Inference.Runtime;
using Tensorflow;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>
/// TensorFlow's <see cref="TensorProto"/> ↔ <see cref="InferenceTensor"/>, as TF Serving reads and writes them.
/// Inputs arrive as <c>tensor_content</c> (raw little-endian bytes: checked against the shape, then used in place; the
/// tensor is only valid while the request message is) or in the typed field that belongs to the dtype (<c>float_val</c>, <c>int64_val</c>, <c>half_val</c>...).
/// Every size is checked against the message before anything is allocated. Outputs leave in the typed fields, as TF
/// Serving's Predict answers (<c>Tensor::AsProtoField</c>).
/// </summary>
public static class TensorProtoConverter
{
    /// <summary>More dimensions than any model has; bounds the shapes error messages repeat.</summary>
    public const int MaxRank = 64;

    /// <summary>
    /// Converts every input into <paramref name="inputs"/>, which the caller owns and disposes even when an error comes
    /// back. <paramref name="maxBroadcastBytes"/> bounds a tensor filled from a single typed value (TensorFlow's rule that
    /// one value stands for the whole shape): it may be no larger than a request could be.
    /// </summary>
    public static ServingError? ReadInputs(MapField<string, TensorProto> protos, List<InferenceTensor> inputs, long maxBroadcastBytes)
    {
        foreach (var (name, proto) in protos)
        {
            var tensor = Read(name, proto, maxBroadcastBytes, out var error);
            if (tensor is null)
            {
                return error;
            }

            inputs.Add(tensor);
        }

        return null;
    }

    public static InferenceTensor? Read(string name, TensorProto proto, long maxBroadcastBytes, out ServingError? error)
    {
        var shown = ClientText.Cut(name);
        error = ReadHeader(shown, proto, out var type, out var shape, out var count);
        if (error is not null)
        {
            return null;
        }

        var typed = CountTyped(proto);
        var content = proto.TensorContent;
        if (content.Length == 0)
        {
            return ReadTyped(name, shown, proto, type, shape, count, typed, maxBroadcastBytes, out error);
        }

        var dtype = TensorFlowDataTypes.Name(proto.Dtype);
        if (typed > 0)
        {
            error = ServingError.InvalidArgument(
                $"input '{shown}' has both tensor_content and typed values ({DescribeTyped(proto)}); send one or the other");
            return null;
        }

        if (type == TensorDataType.Bytes)
        {
            error = ServingError.InvalidArgument($"input '{shown}': {dtype} values travel in string_val, not tensor_content");
            return null;
        }

        var size = type.ElementSize();
        var expected = count * size;
        var bytes = content.Span;
        if (bytes.Length != expected)
        {
            error = ServingError.InvalidArgument(
                $"input '{shown}': tensor_content has {bytes.Length} bytes but shape {ShapeText.Format(shape)} of {dtype} needs {count} × {size} = {expected} bytes");
            return null;
        }

        if (type == TensorDataType.Bool && bytes.IndexOfAnyExcept((byte)0, (byte)1) is var bad and >= 0)
        {
            error = ServingError.InvalidArgument($"input '{shown}': DT_BOOL element {bad} of tensor_content is {bytes[bad]}; DT_BOOL elements are one byte, 0 or 1");
            return null;
        }

        // Over the request's own bytes (the request message outlives the call): no copy.
        return GrpcTensorBytes.Read(name, type, shape, content);
    }

    /// <summary>One output in the typed field of its dtype, with its shape.</summary>
    public static TensorProto Write(InferenceTensor output)
    {
        var proto = new TensorProto { Dtype = output.DataType.ToTensorFlow(), TensorShape = Shape(output.Shape) };
        switch (output.DataType)
        {
            case TensorDataType.Fp32:
                Fill(output.GetSpan<float>(), proto.FloatVal);
                break;
            case TensorDataType.Fp64:
                Fill(output.GetSpan<double>(), proto.DoubleVal);
                break;
            case TensorDataType.Int32:
                Fill(output.GetSpan<int>(), proto.IntVal);
                break;
            case TensorDataType.Int64:
                Fill(output.GetSpan<long>(), proto.Int64Val);
                break;
            case TensorDataType.UInt32:
                Fill(output.GetSpan<uint>(), proto.Uint32Val);
                break;
            case TensorDataType.UInt64:
                Fill(output.GetSpan<ulong>(), proto.Uint64Val);
                break;
            case TensorDataType.Int8:
                Widen(output.GetSpan<sbyte>(), proto.IntVal, static v => v);
                break;
            case TensorDataType.Int16:
                Widen(output.GetSpan<short>(), proto.IntVal, static v => v);
                break;
            case TensorDataType.UInt8:
                Widen(output.GetSpan<byte>(), proto.IntVal, static v => v);
                break;
            case TensorDataType.UInt16:
                Widen(output.GetSpan<ushort>(), proto.IntVal, static v => v);
                break;
            case TensorDataType.Fp16 or TensorDataType.Bf16:
                // Each value's 16 bits, unsigned, in the low half of an int32 (TensorFlow's half_val).
                Widen(output.GetSpan<ushort>(), proto.HalfVal, static v => v);
                break;
            case TensorDataType.Bool:
                Widen(output.Bytes, proto.BoolVal, static v => v != 0);
                break;
            case TensorDataType.Bytes:
                var strings = output.Strings!;
                proto.StringVal.Capacity = strings.Length;
                foreach (var s in strings)
                {
                    proto.StringVal.Add(ByteString.CopyFromUtf8(s ?? string.Empty));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(output), output.DataType, "no TensorFlow dtype");
        }

        return proto;
    }

    public static TensorShapeProto Shape(ReadOnlySpan<long> shape)
    {
        var proto = new TensorShapeProto();
        foreach (var size in shape)
        {
            proto.Dim.Add(new TensorShapeProto.Types.Dim { Size = size });
        }

        return proto;
    }

    private static ServingError? ReadHeader(string shown, TensorProto proto, out TensorDataType type, out long[] shape, out long count)
    {
        type = default;
        shape = [];
        count = 0;
        if (!TensorFlowDataTypes.TryFromTensorFlow(proto.Dtype, out var parsed))
        {
            return ServingError.InvalidArgument(proto.Dtype == DataType.DtInvalid
                ? $"input '{shown}': dtype is not set (DT_INVALID); use one of {TensorFlowDataTypes.Supported}"
                : $"input '{shown}': dtype {TensorFlowDataTypes.Name(proto.Dtype)} is not supported; use one of {TensorFlowDataTypes.Supported}");
        }

        type = parsed.Value;
        var dims = proto.TensorShape?.Dim;
        if (proto.TensorShape is { UnknownRank: true })
        {
            return ServingError.InvalidArgument($"input '{shown}': tensor_shape has unknown_rank set; a request's tensors need their dimensions");
        }

        if (dims is not null && dims.Count > MaxRank)
        {
            return ServingError.InvalidArgument($"input '{shown}': tensor_shape has {dims.Count} dimensions; at most {MaxRank} are supported");
        }

        // No tensor_shape is a scalar, as in TensorFlow.
        shape = new long[dims?.Count ?? 0];
        for (var d = 0; d < shape.Length; d++)
        {
            shape[d] = dims![d].Size;
            if (shape[d] < 0)
            {
                return ServingError.InvalidArgument($"input '{shown}': tensor_shape {FormatDims(dims)} has a negative dimension; a request's tensors need every size");
            }
        }

        // The same bound as the other readers: the element count must fit the pooled buffers' int lengths.
        count = ShapeText.ElementCount(shape);
        if (count is < 0 or > int.MaxValue / 8)
        {
            return ServingError.InvalidArgument($"input '{shown}': tensor_shape {ShapeText.Format(shape)} is too large");
        }

        return null;
    }

    private static InferenceTensor? ReadTyped(
        string name, string shown, TensorProto proto, TensorDataType type, long[] shape, long count, long typed, long maxBroadcastBytes, out ServingError? error)
    {
        var dtype = TensorFlowDataTypes.Name(proto.Dtype);
        var field = FieldName(type);
        var given = CountFor(proto, type);
        if (typed != given)
        {
            error = ServingError.InvalidArgument(
                $"input '{shown}': values were sent in {DescribeTyped(proto)}, but {dtype} values go in {field} (or tensor_content)");
            return null;
        }

        if (given != count && !(given == 1 && count > 1))
        {
            error = ServingError.InvalidArgument(given == 0
                ? $"input '{shown}': shape {ShapeText.Format(shape)} holds {count} {dtype} values but none were sent; set tensor_content or {field}"
                : $"input '{shown}': shape {ShapeText.Format(shape)} holds {count} {dtype} values but {field} has {given}; send all {count}, or one value to fill the shape");
            return null;
        }

        if (given == 1 && count > 1)
        {
            // A single value fills the shape (TensorFlow's rule); the tensor may be no larger than a request could be.
            var bytes = count * Math.Max(type.ElementSize(), IntPtr.Size);
            if (bytes > maxBroadcastBytes)
            {
                error = ServingError.InvalidArgument(
                    $"input '{shown}': one {field} value would fill shape {ShapeText.Format(shape)} ({count} values, {bytes} bytes), more than a request may carry ({maxBroadcastBytes} bytes)");
                return null;
            }
        }

        if (type == TensorDataType.Bytes)
        {
            return ReadStrings(name, shown, proto.StringVal, shape, count, out error);
        }

        var tensor = InferenceTensor.AllocateUninitialized(name, type, shape);
        error = type switch
        {
            TensorDataType.Fp32 => Copy(proto.FloatVal, tensor.GetSpan<float>()),
            TensorDataType.Fp64 => Copy(proto.DoubleVal, tensor.GetSpan<double>()),
            TensorDataType.Int32 => Copy(proto.IntVal, tensor.GetSpan<int>()),
            TensorDataType.Int64 => Copy(proto.Int64Val, tensor.GetSpan<long>()),
            TensorDataType.UInt32 => Copy(proto.Uint32Val, tensor.GetSpan<uint>()),
            TensorDataType.UInt64 => Copy(proto.Uint64Val, tensor.GetSpan<ulong>()),
            TensorDataType.Int8 => Narrow(shown, "int_val", proto.IntVal, tensor.GetSpan<sbyte>(), sbyte.MinValue, sbyte.MaxValue, static v => (sbyte)v),
            TensorDataType.Int16 => Narrow(shown, "int_val", proto.IntVal, tensor.GetSpan<short>(), short.MinValue, short.MaxValue, static v => (short)v),
            TensorDataType.UInt8 => Narrow(shown, "int_val", proto.IntVal, tensor.GetSpan<byte>(), byte.MinValue, byte.MaxValue, static v => (byte)v),
            TensorDataType.UInt16 => Narrow(shown, "int_val", proto.IntVal, tensor.GetSpan<ushort>(), ushort.MinValue, ushort.MaxValue, static v => (ushort)v),
            TensorDataType.Fp16 or TensorDataType.Bf16 => Narrow(shown, "half_val", proto.HalfVal, tensor.GetSpan<ushort>(), ushort.MinValue, ushort.MaxValue, static v => (ushort)v),
            TensorDataType.Bool => CopyBools(proto.BoolVal, tensor.Bytes),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no typed field"),
        };

        if (error is not null)
        {
            tensor.Dispose();
            return null;
        }

        return tensor;
    }

    private static InferenceTensor? ReadStrings(string name, string shown, RepeatedField<ByteString> values, long[] shape, long count, out ServingError? error)
    {
        var strings = new string[count];
        for (var e = 0; e < values.Count; e++)
        {
            var bytes = values[e].Span;
            if (!Utf8.IsValid(bytes))
            {
                // Strings become .NET strings for ONNX Runtime; bytes that are not UTF-8 could not come back unchanged.
                error = ServingError.InvalidArgument($"input '{shown}': DT_STRING element {e} is not valid UTF-8; this server keeps strings as UTF-8 text");
                return null;
            }

            strings[e] = Encoding.UTF8.GetString(bytes);
        }

        if (values.Count == 1)
        {
            Array.Fill(strings, strings[0]);
        }

        error = null;
        return InferenceTensor.FromStrings(name, shape, strings);
    }

    private static ServingError? Copy<T>(RepeatedField<T> from, Span<T> to) where T : unmanaged
    {
        var values = UnsafeCollectionOperations.AsSpan(from);
        if (values.Length == 1)
        {
            to.Fill(values[0]);
        }
        else
        {
            values.CopyTo(to);
        }

        return null;
    }

    private static ServingError? CopyBools(RepeatedField<bool> from, Span<byte> to)
    {
        var values = UnsafeCollectionOperations.AsSpan(from);
        if (values.Length == 1)
        {
            to.Fill(values[0] ? (byte)1 : (byte)0);
            return null;
        }

        for (var i = 0; i < values.Length; i++)
        {
            to[i] = values[i] ? (byte)1 : (byte)0;
        }

        return null;
    }

    /// <summary>Types narrower than the field they travel in: every value must fit (TensorFlow would silently truncate).</summary>
    private static ServingError? Narrow<TNarrow>(string shown, string field, RepeatedField<int> from, Span<TNarrow> to, int min, int max, Func<int, TNarrow> convert)
        where TNarrow : unmanaged
    {
        var values = UnsafeCollectionOperations.AsSpan(from);
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] < min || values[i] > max)
            {
                return ServingError.InvalidArgument($"input '{shown}': {field} element {i} is {values[i]}, outside {min}..{max}");
            }
        }

        if (values.Length == 1)
        {
            to.Fill(convert(values[0]));
            return null;
        }

        for (var i = 0; i < values.Length; i++)
        {
            to[i] = convert(values[i]);
        }

        return null;
    }

    private static void Fill<T>(ReadOnlySpan<T> from, RepeatedField<T> to) where T : unmanaged
    {
        UnsafeCollectionOperations.SetCount(to, from.Length);
        from.CopyTo(UnsafeCollectionOperations.AsSpan(to));
    }

    private static void Widen<TNarrow, TWide>(ReadOnlySpan<TNarrow> from, RepeatedField<TWide> to, Func<TNarrow, TWide> convert)
        where TNarrow : unmanaged
        where TWide : unmanaged
    {
        UnsafeCollectionOperations.SetCount(to, from.Length);
        var target = UnsafeCollectionOperations.AsSpan(to);
        for (var i = 0; i < from.Length; i++)
        {
            target[i] = convert(from[i]);
        }
    }

    /// <summary>The typed field TensorFlow reads a dtype from.</summary>
    private static string FieldName(TensorDataType type) => type switch
    {
        TensorDataType.Fp32 => "float_val",
        TensorDataType.Fp64 => "double_val",
        TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32 or TensorDataType.UInt8 or TensorDataType.UInt16 => "int_val",
        TensorDataType.Int64 => "int64_val",
        TensorDataType.UInt32 => "uint32_val",
        TensorDataType.UInt64 => "uint64_val",
        TensorDataType.Fp16 or TensorDataType.Bf16 => "half_val",
        TensorDataType.Bool => "bool_val",
        TensorDataType.Bytes => "string_val",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    private static long CountFor(TensorProto proto, TensorDataType type) => type switch
    {
        TensorDataType.Fp32 => proto.FloatVal.Count,
        TensorDataType.Fp64 => proto.DoubleVal.Count,
        TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32 or TensorDataType.UInt8 or TensorDataType.UInt16 => proto.IntVal.Count,
        TensorDataType.Int64 => proto.Int64Val.Count,
        TensorDataType.UInt32 => proto.Uint32Val.Count,
        TensorDataType.UInt64 => proto.Uint64Val.Count,
        TensorDataType.Fp16 or TensorDataType.Bf16 => proto.HalfVal.Count,
        TensorDataType.Bool => proto.BoolVal.Count,
        TensorDataType.Bytes => proto.StringVal.Count,
        _ => 0,
    };

    private static long CountTyped(TensorProto proto) =>
        (long)proto.HalfVal.Count + proto.FloatVal.Count + proto.DoubleVal.Count + proto.IntVal.Count + proto.StringVal.Count +
        proto.ScomplexVal.Count + proto.Int64Val.Count + proto.BoolVal.Count + proto.DcomplexVal.Count + proto.ResourceHandleVal.Count +
        proto.VariantVal.Count + proto.Uint32Val.Count + proto.Uint64Val.Count + proto.Float8Val.Length;

    private static string DescribeTyped(TensorProto proto)
    {
        var parts = new List<string>();
        Add("half_val", proto.HalfVal.Count);
        Add("float_val", proto.FloatVal.Count);
        Add("double_val", proto.DoubleVal.Count);
        Add("int_val", proto.IntVal.Count);
        Add("string_val", proto.StringVal.Count);
        Add("scomplex_val", proto.ScomplexVal.Count);
        Add("int64_val", proto.Int64Val.Count);
        Add("bool_val", proto.BoolVal.Count);
        Add("dcomplex_val", proto.DcomplexVal.Count);
        Add("resource_handle_val", proto.ResourceHandleVal.Count);
        Add("variant_val", proto.VariantVal.Count);
        Add("uint32_val", proto.Uint32Val.Count);
        Add("uint64_val", proto.Uint64Val.Count);
        Add("float8_val", proto.Float8Val.Length);
        return string.Join(", ", parts);

        void Add(string field, int count)
        {
            if (count > 0)
            {
                parts.Add($"{count} in {field}");
            }
        }
    }

    private static string FormatDims(RepeatedField<TensorShapeProto.Types.Dim> dims)
    {
        var sizes = new long[dims.Count];
        for (var i = 0; i < sizes.Length; i++)
        {
            sizes[i] = dims[i].Size;
        }

        return ShapeText.Format(sizes);
    }
}
