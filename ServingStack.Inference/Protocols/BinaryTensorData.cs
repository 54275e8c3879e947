using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// Tensors in the layout of Triton's binary tensor data extension (the same as gRPC's raw contents): little-endian,
/// row-major, no padding; BOOL one byte (0 or 1); each BYTES element a 4-byte little-endian length and then its bytes.
/// Every size is checked against the bytes actually present before anything is allocated.
/// </summary>
public static class BinaryTensorData
{
    /// <summary>Length of the JSON part of a body that carries binary tensor data, in requests and responses.</summary>
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";

    public const string ContentType = "application/octet-stream";

    private const int LengthPrefixSize = LengthPrefixedStrings.PrefixSize;

    // Flush a BYTES output to the client every so often instead of buffering all of it.
    private const int FlushBytes = 64 * 1024;

    /// <summary>
    /// Reads <paramref name="bytes"/> (an input's <c>binary_data_size</c> bytes) as a tensor of <paramref name="shape"/>.
    /// The bytes are copied once, into the tensor's pooled buffer.
    /// </summary>
    public static InferenceTensor? Read(string name, TensorDataType type, long[] shape, ReadOnlySpan<byte> bytes, out ServingError? error)
    {
        var count = ShapeText.ElementCount(shape);
        if (type == TensorDataType.Bytes)
        {
            return ReadStrings(name, shape, count, bytes, out error);
        }

        var size = type.ElementSize();
        if (count < 0 || count > bytes.Length / size || count * size != bytes.Length)
        {
            error = ServingError.InvalidArgument(
                $"input '{ClientText.Cut(name)}' has {bytes.Length} bytes of binary data but shape {ShapeText.Format(shape)} of {type.ToOpenInferenceName()} needs {Needed(count, size)} bytes");
            return null;
        }

        if (type == TensorDataType.Bool && bytes.IndexOfAnyExcept((byte)0, (byte)1) is var bad and >= 0)
        {
            error = ServingError.InvalidArgument(
                $"input '{ClientText.Cut(name)}': BOOL element {bad} of its binary data is {bytes[bad]}; BOOL elements are one byte, 0 or 1");
            return null;
        }

        var tensor = InferenceTensor.AllocateUninitialized(name, type, shape);
        bytes.CopyTo(tensor.Bytes);
        error = null;
        return tensor;
    }

    private static string Needed(long count, int size) =>
        count < 0 || count > long.MaxValue / size ? "more than 2^63" : $"{count} × {size} = {count * size}";

    private static InferenceTensor? ReadStrings(string name, long[] shape, long count, ReadOnlySpan<byte> bytes, out ServingError? error)
    {
        var strings = LengthPrefixedStrings.Read(name, "its binary data", shape, count, bytes, out error);
        return strings is null ? null : InferenceTensor.FromStrings(name, shape, strings);
    }

    /// <summary>The size of <paramref name="output"/> in the binary layout (its <c>binary_data_size</c>).</summary>
    public static long ByteCount(InferenceTensor output)
    {
        if (output.DataType != TensorDataType.Bytes)
        {
            return output.ByteLength;
        }

        long total = 0;
        foreach (var s in output.Strings!)
        {
            total += LengthPrefixSize + Encoding.UTF8.GetByteCount(s ?? string.Empty);
        }

        return total;
    }

    /// <summary>Writes <paramref name="output"/>'s bytes to the response body, flushing as it goes.</summary>
    public static async ValueTask WriteAsync(PipeWriter writer, InferenceTensor output, CancellationToken cancellationToken)
    {
        if (output.DataType != TensorDataType.Bytes)
        {
            // Straight from the tensor's buffer into the response pipe: the only copy on the way out.
            await writer.WriteAsync(output.Memory, cancellationToken);
            return;
        }

        var strings = output.Strings!;
        var next = 0;
        while (next < strings.Length)
        {
            next = WriteStrings(writer, strings, next);
            await writer.FlushAsync(cancellationToken);
        }
    }

    /// <summary>Writes elements from <paramref name="start"/> until about <see cref="FlushBytes"/> are written; returns the next element.</summary>
    private static int WriteStrings(PipeWriter writer, string[] strings, int start)
    {
        var written = 0;
        var e = start;
        for (; e < strings.Length && written < FlushBytes; e++)
        {
            var s = strings[e] ?? string.Empty;
            var length = Encoding.UTF8.GetByteCount(s);
            var span = writer.GetSpan(LengthPrefixSize + length);
            BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)length);
            Encoding.UTF8.GetBytes(s, span[LengthPrefixSize..]);
            writer.Advance(LengthPrefixSize + length);
            written += LengthPrefixSize + length;
        }

        return e;
    }
}
