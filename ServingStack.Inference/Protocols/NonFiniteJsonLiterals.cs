using System.Buffers;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// TF Serving accepts bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> as values in request JSON, which strict JSON
/// readers refuse. This pass quotes them so the reader sees strings that the tensor reader turns back into floats, but
/// only where a value may stand (after <c>:</c>, <c>[</c>, or a <c>,</c> inside a list, or as the whole body) and only as
/// a whole token: <c>{NaN: 1}</c> or <c>[NaNx]</c> stay as they are and fail to parse, as TF Serving's reader fails them.
/// Bodies without such tokens pass through untouched.
/// </summary>
public static class NonFiniteJsonLiterals
{
    // Deeper documents fail the parser's depth limit anyway; past it this pass stops tracking and quotes nothing more.
    private const int MaxTrackedDepth = 64;

    private static ReadOnlySpan<byte> NaN => "NaN"u8;

    private static ReadOnlySpan<byte> Infinity => "Infinity"u8;

    /// <summary>Returns a rewritten copy, or null when the body has no bare non-finite literal in a value position.</summary>
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
        // One bit per open container: set for a list, clear for an object.
        ulong lists = 0;
        var depth = 0;
        var valueExpected = true;
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

            switch (c)
            {
                case (byte)'"':
                    inString = true;
                    valueExpected = false;
                    continue;
                case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                    continue;
                case (byte)'{' or (byte)'[':
                    if (depth >= MaxTrackedDepth)
                    {
                        return Finish(output, json, copiedUpTo, written);
                    }

                    lists = c == '[' ? lists | (1UL << depth) : lists & ~(1UL << depth);
                    depth++;
                    // After '[' a value may follow; after '{' a key must.
                    valueExpected = c == '[';
                    continue;
                case (byte)'}' or (byte)']':
                    depth = Math.Max(0, depth - 1);
                    valueExpected = false;
                    continue;
                case (byte)':':
                    valueExpected = true;
                    continue;
                case (byte)',':
                    valueExpected = depth > 0 && (lists & (1UL << (depth - 1))) != 0;
                    continue;
            }

            if (!valueExpected)
            {
                continue;
            }

            valueExpected = false;
            var start = i;
            var negative = c == '-';
            var at = negative ? i + 1 : i;
            int length;
            if (!negative && json[at..].StartsWith(NaN))
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
            if (end < json.Length && !IsDelimiter(json[end]))
            {
                continue;
            }

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

        return Finish(output, json, copiedUpTo, written);
    }

    private static bool IsDelimiter(byte c) => c is (byte)',' or (byte)']' or (byte)'}' or (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    private static PooledBuffer? Finish(byte[]? output, ReadOnlySpan<byte> json, int copiedUpTo, int written)
    {
        if (output is null)
        {
            return null;
        }

        json[copiedUpTo..].CopyTo(output.AsSpan(written));
        written += json.Length - copiedUpTo;
        return new PooledBuffer(output, written);
    }
}
