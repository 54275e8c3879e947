using System.Buffers;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// TF Serving accepts bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> in request JSON, which strict JSON readers
/// refuse. This pass quotes them (outside strings) so the reader sees strings that the tensor reader turns back into
/// floats. Bodies without such tokens pass through untouched.
/// </summary>
public static class NonFiniteJsonLiterals
{
    private static ReadOnlySpan<byte> NaN => "NaN"u8;

    private static ReadOnlySpan<byte> Infinity => "Infinity"u8;

    /// <summary>Returns a rewritten copy, or null when the body has no bare non-finite literal.</summary>
    public static PooledBuffer? Quote(ReadOnlySpan<byte> json)
    {
        if (json.IndexOfAny((byte)'N', (byte)'I') < 0)
        {
            return null;
        }

        byte[]? output = null;
        var written = 0;
        var copiedUpTo = 0;
        var inString = false;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (c == '"')
            {
                inString = true;
                continue;
            }

            var start = i;
            var negative = c == '-' && i + 1 < json.Length && json[i + 1] == 'I';
            var at = negative ? i + 1 : i;
            int length;
            if (json[at..].StartsWith(NaN))
            {
                length = NaN.Length;
            }
            else if (json[at..].StartsWith(Infinity))
            {
                length = Infinity.Length;
            }
            else
            {
                continue;
            }

            var end = at + length;
            // Each quoted token (3+ bytes) grows by 2, so twice the input always fits.
            output ??= ArrayPool<byte>.Shared.Rent(json.Length * 2 + 16);
            json[copiedUpTo..start].CopyTo(output.AsSpan(written));
            written += start - copiedUpTo;
            output[written++] = (byte)'"';
            json[start..end].CopyTo(output.AsSpan(written));
            written += end - start;
            output[written++] = (byte)'"';
            copiedUpTo = end;
            i = end - 1;
        }

        if (output is null)
        {
            return null;
        }

        json[copiedUpTo..].CopyTo(output.AsSpan(written));
        written += json.Length - copiedUpTo;
        return new PooledBuffer(output, written);
    }
}
