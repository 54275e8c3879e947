using System.Buffers;

namespace ServingStack.Inference.Protocols;

/// <summary>A request body in a buffer rented from the shared pool; returned on dispose.</summary>
public sealed class PooledBuffer : IDisposable
{
    private byte[]? _array;

    internal PooledBuffer(byte[] array, int length)
    {
        _array = array;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => (_array ?? throw new ObjectDisposedException(nameof(PooledBuffer))).AsMemory(0, Length);

    public void Dispose()
    {
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
