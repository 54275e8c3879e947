using System.Buffers;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// The request body as the forwarder reads it: counts the bytes read and keeps a pooled copy of them up to a limit, so
/// that a request whose forwarding failed before any answer can be sent again, untouched (nothing was read: it never
/// reached a destination) or from the copy (<see cref="Rewind"/>). Memory is bounded by the body and the limit.
/// </summary>
internal sealed class ReplayableRequestBody(Stream inner, int copyLimit) : Stream
{
    private byte[]? _copy;
    private int _copied;
    private long _read;
    private bool _overflowed;
    private int _replayed = -1;

    /// <summary>The forwarder has read nothing of the body.</summary>
    public bool Untouched => _read == 0;

    /// <summary>Everything read so far is in the copy, so the body can be sent again from its start.</summary>
    public bool CanReplay => !_overflowed;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>The next reads return the copy, then the rest of the body; nothing more is copied.</summary>
    public void Rewind()
    {
        if (_overflowed)
        {
            throw new InvalidOperationException("the body outgrew its copy and cannot be sent again");
        }

        _replayed = 0;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (FromCopy(buffer.Span) is var fromCopy and > 0)
        {
            return fromCopy;
        }

        var read = await inner.ReadAsync(buffer, cancellationToken);
        Keep(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(Span<byte> buffer)
    {
        if (FromCopy(buffer) is var fromCopy and > 0)
        {
            return fromCopy;
        }

        var read = inner.Read(buffer);
        Keep(buffer[..read]);
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Release();
        }

        base.Dispose(disposing);
    }

    private int FromCopy(Span<byte> buffer)
    {
        if (_replayed < 0 || _replayed >= _copied || buffer.IsEmpty)
        {
            return 0;
        }

        var count = Math.Min(buffer.Length, _copied - _replayed);
        _copy.AsSpan(_replayed, count).CopyTo(buffer);
        _replayed += count;
        return count;
    }

    private void Keep(ReadOnlySpan<byte> read)
    {
        _read += read.Length;
        if (_replayed >= 0 || _overflowed || read.IsEmpty)
        {
            return;
        }

        if ((long)_copied + read.Length > copyLimit)
        {
            _overflowed = true;
            Release();
            return;
        }

        if (_copy is null || _copy.Length - _copied < read.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(copyLimit, Math.Max(_copied + read.Length, (_copy?.Length ?? 2048) * 2)));
            _copy?.AsSpan(0, _copied).CopyTo(larger);
            if (_copy is not null)
            {
                ArrayPool<byte>.Shared.Return(_copy);
            }

            _copy = larger;
        }

        read.CopyTo(_copy.AsSpan(_copied));
        _copied += read.Length;
    }

    private void Release()
    {
        if (_copy is not null)
        {
            ArrayPool<byte>.Shared.Return(_copy);
            _copy = null;
        }

        _copied = 0;
    }
}
