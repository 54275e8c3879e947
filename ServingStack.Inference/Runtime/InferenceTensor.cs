using System.Buffers;
using System.Runtime.InteropServices;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// A named tensor in row-major order. Fixed-size elements live in a buffer rented from the shared pool (returned on
/// <see cref="Dispose"/>); BYTES elements are kept as strings because ONNX Runtime's string tensors take strings.
/// </summary>
public sealed class InferenceTensor : IDisposable
{
    private byte[]? _rented;

    private InferenceTensor(string name, TensorDataType dataType, long[] shape, byte[]? rented, int byteLength, string[]? strings)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        _rented = rented;
        ByteLength = byteLength;
        Strings = strings;
    }

    public string Name { get; }

    public TensorDataType DataType { get; }

    public long[] Shape { get; }

    public int ByteLength { get; }

    /// <summary>The elements of a BYTES tensor; null for every other datatype.</summary>
    public string[]? Strings { get; }

    public long ElementCount => ShapeText.ElementCount(Shape);

    /// <summary>Raw little-endian element bytes of a fixed-size tensor.</summary>
    public Memory<byte> Memory => _rented is null ? Memory<byte>.Empty : _rented.AsMemory(0, ByteLength);

    public Span<byte> Bytes => _rented is null ? Span<byte>.Empty : _rented.AsSpan(0, ByteLength);

    public Span<T> GetSpan<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes);

    /// <summary>Allocates a fixed-size tensor of <paramref name="shape"/> with a pooled, zeroed buffer.</summary>
    public static InferenceTensor Allocate(string name, TensorDataType dataType, long[] shape)
    {
        var tensor = AllocateUninitialized(name, dataType, shape);
        tensor.Bytes.Clear();
        return tensor;
    }

    /// <summary>Like <see cref="Allocate"/> without zeroing, for callers that overwrite every byte (hot paths).</summary>
    public static InferenceTensor AllocateUninitialized(string name, TensorDataType dataType, long[] shape)
    {
        if (dataType == TensorDataType.Bytes)
        {
            return new InferenceTensor(name, dataType, shape, null, 0, new string[checked((int)ShapeText.ElementCount(shape))]);
        }

        var length = checked((int)(ShapeText.ElementCount(shape) * dataType.ElementSize()));
        var rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        return new InferenceTensor(name, dataType, shape, rented, length, null);
    }

    public static InferenceTensor FromStrings(string name, long[] shape, string[] values) =>
        new(name, TensorDataType.Bytes, shape, null, 0, values);

    public void Dispose()
    {
        var rented = Interlocked.Exchange(ref _rented, null);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
