using System.Buffers;
using System.Runtime.InteropServices;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// A named tensor in row-major order. Fixed-size elements live in a buffer rented from the shared pool (returned when the
/// last tensor over it is disposed), or over memory the caller keeps alive (a request's own bytes: no copy in); BYTES
/// elements are kept as strings because ONNX Runtime's string tensors take strings.
/// </summary>
public sealed class InferenceTensor : IDisposable
{
    private readonly int _offset;
    private byte[]? _array;
    private PooledBlock? _block;

    private InferenceTensor(string name, TensorDataType dataType, long[] shape, byte[]? array, int offset, int byteLength, PooledBlock? block, string[]? strings)
    {
        Name = name;
        DataType = dataType;
        Shape = shape;
        _array = array;
        _offset = offset;
        _block = block;
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
    public Memory<byte> Memory => _array is { } array ? array.AsMemory(_offset, ByteLength) : Memory<byte>.Empty;

    public Span<byte> Bytes => _array is { } array ? array.AsSpan(_offset, ByteLength) : Span<byte>.Empty;

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
            return new InferenceTensor(name, dataType, shape, null, 0, 0, null, new string[checked((int)ShapeText.ElementCount(shape))]);
        }

        var length = checked((int)(ShapeText.ElementCount(shape) * dataType.ElementSize()));
        var block = new PooledBlock(ArrayPool<byte>.Shared.Rent(Math.Max(length, 1)));
        return new InferenceTensor(name, dataType, shape, block.Array, 0, length, block, null);
    }

    public static InferenceTensor FromStrings(string name, long[] shape, string[] values) =>
        new(name, TensorDataType.Bytes, shape, null, 0, 0, null, values);

    /// <summary>
    /// A fixed-size tensor over <paramref name="bytes"/> without copying them (a request's raw contents). The caller keeps
    /// the array alive and unchanged while the tensor is in use; disposing the tensor does not touch the array.
    /// </summary>
    public static InferenceTensor Wrap(string name, TensorDataType dataType, long[] shape, ArraySegment<byte> bytes)
    {
        if (dataType == TensorDataType.Bytes)
        {
            throw new ArgumentException("BYTES tensors hold strings; use FromStrings", nameof(dataType));
        }

        return new InferenceTensor(name, dataType, shape, bytes.Array, bytes.Offset, bytes.Count, null, null);
    }

    /// <summary>
    /// Rows [<paramref name="start"/>, start + <paramref name="count"/>) of this fixed-size tensor as a new tensor over the
    /// same buffer (no copy): a pooled buffer goes back to the pool only when this tensor and every view are disposed.
    /// </summary>
    public InferenceTensor ViewRows(long start, long count)
    {
        if (DataType == TensorDataType.Bytes)
        {
            throw new InvalidOperationException("BYTES tensors hold strings; slice them by copying the strings");
        }

        var array = _array ?? throw new ObjectDisposedException(nameof(InferenceTensor));
        var shape = (long[])Shape.Clone();
        shape[0] = count;
        var rowBytes = ShapeText.ElementCount(Shape.AsSpan(1)) * DataType.ElementSize();
        var block = _block;
        block?.AddReference();
        return new InferenceTensor(Name, DataType, shape, array, checked(_offset + (int)(start * rowBytes)), checked((int)(count * rowBytes)), block, null);
    }

    /// <summary>
    /// Hands the buffer's memory to a consumer that outlives this tensor (a response serialized after the handler returns):
    /// the returned lease keeps a pooled buffer out of the pool until it is disposed. Null for memory the tensor does not own.
    /// </summary>
    public IDisposable? LeaseBuffer()
    {
        var block = _block;
        if (block is null || _array is null)
        {
            return null;
        }

        block.AddReference();
        return block;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _array, null) is not null)
        {
            Interlocked.Exchange(ref _block, null)?.Dispose();
        }
    }

    /// <summary>A pooled array shared by a tensor and its row views; back to the pool when the last reference goes.</summary>
    private sealed class PooledBlock(byte[] array) : IDisposable
    {
        private int _references = 1;

        public byte[] Array { get; } = array;

        public void AddReference() => Interlocked.Increment(ref _references);

        public void Dispose()
        {
            if (Interlocked.Decrement(ref _references) == 0)
            {
                ArrayPool<byte>.Shared.Return(Array);
            }
        }
    }
}
