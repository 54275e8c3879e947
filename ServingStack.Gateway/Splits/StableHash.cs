using System.Text;

namespace ServingStack.Gateway.Splits;

/// <summary>FNV-1a (64-bit) of a string's UTF-8 bytes: the same on every process and run, unlike string.GetHashCode.</summary>
public static class StableHash
{
    private const ulong Offset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;

    public static ulong Fnv1a64(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var hash = Offset;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(value) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(value, buffer)] : Encoding.UTF8.GetBytes(value);
        foreach (var b in bytes)
        {
            hash ^= b;
            hash *= Prime;
        }

        // FNV's low bits mix poorly for short keys; a final avalanche (SplitMix64's) spreads them over the buckets.
        hash ^= hash >> 30;
        hash *= 0xBF58476D1CE4E5B9UL;
        hash ^= hash >> 27;
        hash *= 0x94D049BB133111EBUL;
        hash ^= hash >> 31;
        return hash;
    }
}
