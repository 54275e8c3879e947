using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Grpc.Core;
using ServingStack.Inference.Protocols.Grpc;
using ServingStack.Inference.Runtime;
using InputTensor = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferRequest.Types.InferInputTensor;
using OutputTensor = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferResponse.Types.InferOutputTensor;

namespace ServingStack.Inference.Protocols.OpenInference.Grpc;

/// <summary>
/// Open Inference gRPC tensors ↔ <see cref="InferenceTensor"/>. Inputs arrive as typed <c>contents</c> or as
/// <c>raw_input_contents</c> (little-endian element bytes; BYTES elements each behind a 4-byte little-endian length);
/// outputs leave the same way. Raw fixed-size contents are used in place both ways (no copy), typed ones are copied
/// once, and every size is checked against the message before anything is allocated, so a small request can never make
/// the server allocate a large tensor.
/// </summary>
public static class GrpcTensorConverter
{
    private const int LengthPrefixSize = LengthPrefixedStrings.PrefixSize;

    /// <summary>More dimensions than any model has; bounds the shapes error messages repeat.</summary>
    public const int MaxRank = 64;

    private const string DatatypeList = "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, BF16, FP32, FP64 or BYTES";

    /// <summary>
    /// Converts every input of <paramref name="request"/> into <paramref name="inputs"/>, which the caller owns and
    /// disposes even when an error comes back. <paramref name="raw"/> tells whether the request used raw contents, so the
    /// response can answer the same way.
    /// </summary>
    public static ServingError? ReadInputs(ModelInferRequest request, List<InferenceTensor> inputs, out bool raw)
    {
        var rawContents = request.RawInputContents;
        raw = rawContents.Count > 0;
        if (raw && rawContents.Count != request.Inputs.Count)
        {
            return ServingError.InvalidArgument(
                $"raw_input_contents has {rawContents.Count} entries but the request has {request.Inputs.Count} inputs; send one entry per input, in the order of 'inputs'");
        }

        for (var i = 0; i < request.Inputs.Count; i++)
        {
            var input = request.Inputs[i];
            ServingError? error;
            var tensor = raw ? ReadRaw(input, i, rawContents[i], out error) : ReadTyped(input, i, out error);
            if (tensor is null)
            {
                return error;
            }

            inputs.Add(tensor);
        }

        return null;
    }

    /// <summary>
    /// Adds every output to <paramref name="response"/>: as <c>raw_output_contents</c> when <paramref name="raw"/> (the
    /// request was raw) or when any output is FP16/BF16 (which have no typed field; raw_output_contents is positional, so
    /// one raw output makes them all raw), else as typed contents.
    /// </summary>
    public static void WriteOutputs(ModelInferResponse response, IReadOnlyList<InferenceTensor> outputs, bool raw) =>
        WriteOutputs(response, outputs, raw, null);

    /// <summary>
    /// As above; with the call's <paramref name="context"/>, raw outputs are sent from the outputs' own buffers (no copy),
    /// which the call keeps alive until the response is written.
    /// </summary>
    public static void WriteOutputs(ModelInferResponse response, IReadOnlyList<InferenceTensor> outputs, bool raw, ServerCallContext? context)
    {
        foreach (var output in outputs)
        {
            raw |= output.DataType is TensorDataType.Fp16 or TensorDataType.Bf16;
        }

        foreach (var output in outputs)
        {
            var tensor = new OutputTensor { Name = output.Name, Datatype = output.DataType.ToOpenInferenceName() };
            tensor.Shape.Add(output.Shape);
            if (raw)
            {
                response.RawOutputContents.Add(ToRaw(output, context));
            }
            else
            {
                tensor.Contents = ToTyped(output);
            }

            response.Outputs.Add(tensor);
        }
    }

    private static InferenceTensor? ReadRaw(InputTensor input, int index, ByteString raw, out ServingError? error)
    {
        error = ReadHeader(input, index, out var type, out var shape, out var count);
        if (error is not null)
        {
            return null;
        }

        // Error messages repeat the client's name cut short; the tensor keeps it whole.
        var name = ClientText.Cut(input.Name);
        if (input.Contents is { } contents && CountValues(contents) > 0)
        {
            error = ServingError.InvalidArgument(
                $"input '{name}' has typed contents ({DescribeFilled(contents)}) but the request also carries raw_input_contents; when raw_input_contents is used no input may set contents");
            return null;
        }

        var bytes = raw.Span;
        if (type == TensorDataType.Bytes)
        {
            return ReadRawStrings(input.Name, index, shape, count, bytes, out error);
        }

        var size = type.ElementSize();
        var expected = count * size;
        if (bytes.Length != expected)
        {
            error = ServingError.InvalidArgument(
                $"input '{name}': raw_input_contents[{index}] has {bytes.Length} bytes but shape {ShapeText.Format(shape)} of {type.ToOpenInferenceName()} needs {count} × {size} = {expected} bytes");
            return null;
        }

        if (type == TensorDataType.Bool && bytes.IndexOfAnyExcept((byte)0, (byte)1) is var bad and >= 0)
        {
            error = ServingError.InvalidArgument(
                $"input '{name}': BOOL element {bad} of raw_input_contents[{index}] is {bytes[bad]}; BOOL elements are one byte, 0 or 1");
            return null;
        }

        // Over the request's own bytes: the message outlives the call, so no copy is needed.
        return GrpcTensorBytes.Read(input.Name, type, shape, raw);
    }

    private static InferenceTensor? ReadRawStrings(string tensorName, int index, long[] shape, long count, ReadOnlySpan<byte> bytes, out ServingError? error)
    {
        var strings = LengthPrefixedStrings.Read(tensorName, $"raw_input_contents[{index}]", shape, count, bytes, out error);
        return strings is null ? null : InferenceTensor.FromStrings(tensorName, shape, strings);
    }

    private static InferenceTensor? ReadTyped(InputTensor input, int index, out ServingError? error)
    {
        error = ReadHeader(input, index, out var type, out var shape, out var count);
        if (error is not null)
        {
            return null;
        }

        var name = ClientText.Cut(input.Name);
        if (type is TensorDataType.Fp16 or TensorDataType.Bf16)
        {
            error = ServingError.InvalidArgument(
                $"input '{name}': {type.ToOpenInferenceName()} values travel only in raw_input_contents (typed contents have no field for them)");
            return null;
        }

        var contents = input.Contents ?? new InferTensorContents();
        var field = FieldName(type);
        var given = CountFor(contents, type);
        var total = CountValues(contents);
        if (given != count || total != given)
        {
            var elsewhere = total != given ? $"; values were sent in {DescribeFilled(contents)}, but {type.ToOpenInferenceName()} values go in contents.{field}" : string.Empty;
            error = ServingError.InvalidArgument(
                $"input '{name}': shape {ShapeText.Format(shape)} holds {count} {type.ToOpenInferenceName()} values but contents.{field} has {given}{elsewhere} (or send raw_input_contents)");
            return null;
        }

        if (type == TensorDataType.Bytes)
        {
            var strings = new string[count];
            for (var e = 0; e < strings.Length; e++)
            {
                if (!LengthPrefixedStrings.TryDecode(name, e, contents.BytesContents[e].Span, out strings[e], out error))
                {
                    return null;
                }
            }

            return InferenceTensor.FromStrings(input.Name, shape, strings);
        }

        var tensor = InferenceTensor.Allocate(input.Name, type, shape);
        error = type switch
        {
            TensorDataType.Bool => CopyBools(contents.BoolContents, tensor.Bytes),
            TensorDataType.Int8 => Narrow(name, contents.IntContents, tensor.GetSpan<sbyte>(), sbyte.MinValue, sbyte.MaxValue, static v => (sbyte)v),
            TensorDataType.Int16 => Narrow(name, contents.IntContents, tensor.GetSpan<short>(), short.MinValue, short.MaxValue, static v => (short)v),
            TensorDataType.Int32 => Copy(contents.IntContents, tensor.GetSpan<int>()),
            TensorDataType.Int64 => Copy(contents.Int64Contents, tensor.GetSpan<long>()),
            TensorDataType.UInt8 => Narrow(name, contents.UintContents, tensor.GetSpan<byte>(), byte.MinValue, byte.MaxValue, static v => (byte)v),
            TensorDataType.UInt16 => Narrow(name, contents.UintContents, tensor.GetSpan<ushort>(), ushort.MinValue, ushort.MaxValue, static v => (ushort)v),
            TensorDataType.UInt32 => Copy(contents.UintContents, tensor.GetSpan<uint>()),
            TensorDataType.UInt64 => Copy(contents.Uint64Contents, tensor.GetSpan<ulong>()),
            TensorDataType.Fp32 => Copy(contents.Fp32Contents, tensor.GetSpan<float>()),
            TensorDataType.Fp64 => Copy(contents.Fp64Contents, tensor.GetSpan<double>()),
            _ => throw new ArgumentOutOfRangeException(nameof(input), type, "no typed contents field"),
        };

        if (error is not null)
        {
            tensor.Dispose();
            return null;
        }

        return tensor;
    }

    private static ServingError? ReadHeader(InputTensor input, int index, out TensorDataType type, out long[] shape, out long count)
    {
        type = default;
        shape = [];
        count = 0;
        if (string.IsNullOrEmpty(input.Name))
        {
            return ServingError.InvalidArgument($"inputs[{index}]: 'name' is required");
        }

        if (!TensorDataTypes.TryParseOpenInferenceName(input.Datatype, out var parsed))
        {
            return ServingError.InvalidArgument($"input '{ClientText.Cut(input.Name)}': unknown datatype '{ClientText.Cut(input.Datatype)}' (expected {DatatypeList})");
        }

        type = parsed.Value;
        if (input.Shape.Count > MaxRank)
        {
            return ServingError.InvalidArgument($"input '{ClientText.Cut(input.Name)}': shape has {input.Shape.Count} dimensions; at most {MaxRank} are supported");
        }

        shape = new long[input.Shape.Count];
        input.Shape.CopyTo(shape, 0);
        foreach (var dim in shape)
        {
            if (dim < 0)
            {
                return ServingError.InvalidArgument($"input '{ClientText.Cut(input.Name)}': shape {ClientText.Cut(ShapeText.Format(shape))} must be a list of non-negative integers");
            }
        }

        // The same bound as the REST readers: the element count must fit the pooled buffers' int lengths.
        count = ShapeText.ElementCount(shape);
        if (count is < 0 or > int.MaxValue / 8)
        {
            return ServingError.InvalidArgument($"input '{ClientText.Cut(input.Name)}': shape {ClientText.Cut(ShapeText.Format(shape))} is too large");
        }

        return null;
    }

    private static ServingError? Copy<T>(RepeatedField<T> from, Span<T> to) where T : unmanaged
    {
        UnsafeCollectionOperations.AsSpan(from).CopyTo(to);
        return null;
    }

    private static ServingError? CopyBools(RepeatedField<bool> from, Span<byte> to)
    {
        var values = UnsafeCollectionOperations.AsSpan(from);
        for (var i = 0; i < values.Length; i++)
        {
            to[i] = values[i] ? (byte)1 : (byte)0;
        }

        return null;
    }

    /// <summary>INT8/INT16 share int_contents and UINT8/UINT16 uint_contents, so each value must fit the narrower type.</summary>
    private static ServingError? Narrow<TWide, TNarrow>(string name, RepeatedField<TWide> from, Span<TNarrow> to, TWide min, TWide max, Func<TWide, TNarrow> convert)
        where TWide : unmanaged, IComparable<TWide>
        where TNarrow : unmanaged
    {
        var values = UnsafeCollectionOperations.AsSpan(from);
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i];
            if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
            {
                return ServingError.InvalidArgument($"input '{name}': element {i} is {value}, outside the range of its datatype ({min}..{max})");
            }

            to[i] = convert(value);
        }

        return null;
    }

    private static ByteString ToRaw(InferenceTensor output, ServerCallContext? context)
    {
        if (output.DataType != TensorDataType.Bytes)
        {
            return GrpcTensorBytes.Write(output, context);
        }

        var strings = output.Strings!;
        long total = 0;
        foreach (var s in strings)
        {
            total += LengthPrefixSize + Encoding.UTF8.GetByteCount(s ?? string.Empty);
        }

        var buffer = new byte[checked((int)total)];
        var offset = 0;
        foreach (var s in strings)
        {
            var written = Encoding.UTF8.GetBytes(s ?? string.Empty, buffer.AsSpan(offset + LengthPrefixSize));
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(offset), (uint)written);
            offset += LengthPrefixSize + written;
        }

        // A fresh array nobody else holds or changes, so wrapping it instead of copying it again is safe.
        return UnsafeByteOperations.UnsafeWrap(buffer);
    }

    private static InferTensorContents ToTyped(InferenceTensor output)
    {
        var contents = new InferTensorContents();
        switch (output.DataType)
        {
            case TensorDataType.Bool:
                var bools = output.Bytes;
                UnsafeCollectionOperations.SetCount(contents.BoolContents, bools.Length);
                var target = UnsafeCollectionOperations.AsSpan(contents.BoolContents);
                for (var i = 0; i < bools.Length; i++)
                {
                    target[i] = bools[i] != 0;
                }

                break;
            case TensorDataType.Int8:
                Widen(output.GetSpan<sbyte>(), contents.IntContents, static v => v);
                break;
            case TensorDataType.Int16:
                Widen(output.GetSpan<short>(), contents.IntContents, static v => v);
                break;
            case TensorDataType.Int32:
                Fill(output.GetSpan<int>(), contents.IntContents);
                break;
            case TensorDataType.Int64:
                Fill(output.GetSpan<long>(), contents.Int64Contents);
                break;
            case TensorDataType.UInt8:
                Widen(output.GetSpan<byte>(), contents.UintContents, static v => v);
                break;
            case TensorDataType.UInt16:
                Widen(output.GetSpan<ushort>(), contents.UintContents, static v => v);
                break;
            case TensorDataType.UInt32:
                Fill(output.GetSpan<uint>(), contents.UintContents);
                break;
            case TensorDataType.UInt64:
                Fill(output.GetSpan<ulong>(), contents.Uint64Contents);
                break;
            case TensorDataType.Fp32:
                Fill(output.GetSpan<float>(), contents.Fp32Contents);
                break;
            case TensorDataType.Fp64:
                Fill(output.GetSpan<double>(), contents.Fp64Contents);
                break;
            case TensorDataType.Bytes:
                var strings = output.Strings!;
                contents.BytesContents.Capacity = strings.Length;
                foreach (var s in strings)
                {
                    contents.BytesContents.Add(ByteString.CopyFromUtf8(s ?? string.Empty));
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(output), output.DataType, "no typed contents field; written as raw contents instead");
        }

        return contents;
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

    private static string FieldName(TensorDataType type) => type switch
    {
        TensorDataType.Bool => "bool_contents",
        TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32 => "int_contents",
        TensorDataType.Int64 => "int64_contents",
        TensorDataType.UInt8 or TensorDataType.UInt16 or TensorDataType.UInt32 => "uint_contents",
        TensorDataType.UInt64 => "uint64_contents",
        TensorDataType.Fp32 => "fp32_contents",
        TensorDataType.Fp64 => "fp64_contents",
        TensorDataType.Bytes => "bytes_contents",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    private static int CountFor(InferTensorContents contents, TensorDataType type) => type switch
    {
        TensorDataType.Bool => contents.BoolContents.Count,
        TensorDataType.Int8 or TensorDataType.Int16 or TensorDataType.Int32 => contents.IntContents.Count,
        TensorDataType.Int64 => contents.Int64Contents.Count,
        TensorDataType.UInt8 or TensorDataType.UInt16 or TensorDataType.UInt32 => contents.UintContents.Count,
        TensorDataType.UInt64 => contents.Uint64Contents.Count,
        TensorDataType.Fp32 => contents.Fp32Contents.Count,
        TensorDataType.Fp64 => contents.Fp64Contents.Count,
        TensorDataType.Bytes => contents.BytesContents.Count,
        _ => 0,
    };

    private static long CountValues(InferTensorContents contents) =>
        (long)contents.BoolContents.Count + contents.IntContents.Count + contents.Int64Contents.Count + contents.UintContents.Count +
        contents.Uint64Contents.Count + contents.Fp32Contents.Count + contents.Fp64Contents.Count + contents.BytesContents.Count;

    private static string DescribeFilled(InferTensorContents contents)
    {
        var parts = new List<string>();
        Add("bool_contents", contents.BoolContents.Count);
        Add("int_contents", contents.IntContents.Count);
        Add("int64_contents", contents.Int64Contents.Count);
        Add("uint_contents", contents.UintContents.Count);
        Add("uint64_contents", contents.Uint64Contents.Count);
        Add("fp32_contents", contents.Fp32Contents.Count);
        Add("fp64_contents", contents.Fp64Contents.Count);
        Add("bytes_contents", contents.BytesContents.Count);
        return string.Join(", ", parts);

        void Add(string field, int count)
        {
            if (count > 0)
            {
                parts.Add($"{count} in {field}");
            }
        }
    }
}
