using System.Numerics;

namespace ServingStack.Gateway.Splits;

/// <summary>
/// One target's counts and latencies in the current window, recorded without locks or per-request allocation: latencies
/// go into log-linear buckets (16 per power of two of microseconds, so a bucket is at most 1/16 wide), and the p99 is
/// the upper edge of the bucket holding it. A window is one array swapped out whole when it closes; a request that
/// read the old array just before the swap may land in the closed window (never double-counted, rarely lost).
/// </summary>
internal sealed class TargetWindow
{
    private const int SubBuckets = 16;
    private const int SubBucketBits = 4;

    // Microseconds below 2^35 (about 9.5 hours) get their own buckets; longer ones share the last.
    private const int MaxOctave = 34;
    private const int BucketCount = (MaxOctave - SubBucketBits + 1) * SubBuckets + SubBuckets;

    // [0, BucketCount): latency buckets; then errors; then requests (written last, so a count seen means its bucket is in).
    private const int ErrorsSlot = BucketCount;
    private const int RequestsSlot = BucketCount + 1;

    private long[] _counts = new long[BucketCount + 2];

    public int Count => (int)Volatile.Read(ref Volatile.Read(ref _counts)[RequestsSlot]);

    public void Add(bool error, double seconds)
    {
        var counts = Volatile.Read(ref _counts);
        Interlocked.Increment(ref counts[BucketOf(seconds)]);
        if (error)
        {
            Interlocked.Increment(ref counts[ErrorsSlot]);
        }

        Interlocked.Increment(ref counts[RequestsSlot]);
    }

    public WindowStats Drain()
    {
        var counts = Interlocked.Exchange(ref _counts, new long[BucketCount + 2]);
        var requests = Volatile.Read(ref counts[RequestsSlot]);
        if (requests == 0)
        {
            return default;
        }

        var rank = (long)Math.Ceiling(requests * 0.99);
        long seen = 0;
        var p99 = UpperEdgeSeconds(BucketCount - 1);
        for (var i = 0; i < BucketCount; i++)
        {
            seen += Volatile.Read(ref counts[i]);
            if (seen >= rank)
            {
                p99 = UpperEdgeSeconds(i);
                break;
            }
        }

        return new WindowStats((int)requests, (int)Volatile.Read(ref counts[ErrorsSlot]), p99);
    }

    /// <summary>Below 16 µs one bucket per microsecond; above, 16 buckets per power of two.</summary>
    internal static int BucketOf(double seconds)
    {
        var micros = seconds > 0 ? seconds * 1e6 : 0;
        var value = micros >= (1L << (MaxOctave + 1)) ? (1UL << (MaxOctave + 1)) - 1 : (ulong)micros;
        if (value < SubBuckets)
        {
            return (int)value;
        }

        var octave = BitOperations.Log2(value);
        return ((octave - SubBucketBits + 1) * SubBuckets) + (int)((value >> (octave - SubBucketBits)) & (SubBuckets - 1));
    }

    /// <summary>The exclusive upper edge of a bucket, in seconds.</summary>
    internal static double UpperEdgeSeconds(int bucket)
    {
        if (bucket < SubBuckets)
        {
            return (bucket + 1) / 1e6;
        }

        var octave = (bucket / SubBuckets) + SubBucketBits - 1;
        var sub = bucket % SubBuckets;
        return ((long)(SubBuckets + sub + 1) << (octave - SubBucketBits)) / 1e6;
    }
}
