using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Peeks at the first gRPC message of an Open Inference call for its <c>model_name</c> (field 1 of ModelInferRequest,
/// ModelReadyRequest and ModelMetadataRequest) without consuming the body: the pipe is advanced with nothing consumed, so
/// YARP forwards the bytes unchanged. Only the frame header and field 1 are read, not the tensors.
/// </summary>
public static class GrpcModelNameReader
{
    private const int FrameHeader = 5;
    private const int MaxPeekBytes = 4096;

    public static async ValueTask<string?> PeekModelNameAsync(PipeReader body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        while (true)
        {
            var result = await body.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var outcome = TryRead(buffer, out var name);
            if (outcome != ReadOutcome.NeedMore || result.IsCompleted || buffer.Length >= MaxPeekBytes)
            {
                body.AdvanceTo(buffer.Start);
                return outcome == ReadOutcome.Found ? name : null;
            }

            // Nothing consumed, everything examined: the next read waits for more bytes.
            body.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    internal enum ReadOutcome
    {
        Found,
        NotPresent,
        NeedMore,
    }

    internal static ReadOutcome TryRead(ReadOnlySequence<byte> buffer, out string? name)
    {
        name = null;
        var reader = new SequenceReader<byte>(buffer);
        // Frame: compressed flag (1 byte), big-endian length (4 bytes). A compressed message cannot be peeked.
        if (!reader.TryRead(out var compressed) || !reader.TryReadBigEndian(out int length))
        {
            return ReadOutcome.NeedMore;
        }

        if (compressed != 0 || length <= 0)
        {
            return ReadOutcome.NotPresent;
        }

        var messageEnd = FrameHeader + (long)length;
        while (reader.Consumed < messageEnd)
        {
            if (!TryReadVarint(ref reader, out var tag))
            {
                return ReadOutcome.NeedMore;
            }

            var field = tag >> 3;
            var wireType = (int)(tag & 7);
            switch (wireType)
            {
                case 0:
                    if (!TryReadVarint(ref reader, out _))
                    {
                        return ReadOutcome.NeedMore;
                    }

                    break;
                case 1:
                case 5:
                    if (!reader.TryAdvance(wireType == 1 ? 8 : 4))
                    {
                        return ReadOutcome.NeedMore;
                    }

                    break;
                case 2:
                    if (!TryReadVarint(ref reader, out var size))
                    {
                        return ReadOutcome.NeedMore;
                    }

                    if (field == 1)
                    {
                        if (reader.Remaining < (long)size)
                        {
                            return ReadOutcome.NeedMore;
                        }

                        var bytes = buffer.Slice(reader.Position, (long)size);
                        name = Encoding.UTF8.GetString(bytes);
                        return ReadOutcome.Found;
                    }

                    // Fields are written in order, so model_name (1) comes before the tensors; anything else ends the search.
                    return ReadOutcome.NotPresent;
                default:
                    return ReadOutcome.NotPresent;
            }
        }

        return ReadOutcome.NotPresent;
    }

    private static bool TryReadVarint(ref SequenceReader<byte> reader, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!reader.TryRead(out var b))
            {
                return false;
            }

            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryAdvance(this ref SequenceReader<byte> reader, long count)
    {
        if (reader.Remaining < count)
        {
            return false;
        }

        reader.Advance(count);
        return true;
    }
}
