using System.Numerics;

namespace ServingStack.Bench.Load;

/// <summary>
/// An HdrHistogram-style recorder of latencies in nanoseconds: exact below 2,048 ns, then 1,024 linear sub-buckets per
/// power of two (relative error under 0.1%) up to about 36 minutes. All memory is allocated up front (256 KiB), so
/// recording never allocates and any number of samples fits. Not thread-safe: one per worker, merged afterwards.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 10;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int LinearLimit = 2 * SubBucketCount;
    private const int Exponents = 30;

    /// <summary>The largest value kept exactly in range; larger ones are counted in the last bucket.</summary>
    public const long HighestTrackable = ((long)SubBucketCount << (Exponents + 1)) - 1;

    private readonly long[] _counts = new long[LinearLimit + (Exponents * SubBucketCount)];

    public long Count { get; private set; }

    public long Min { get; private set; } = long.MaxValue;

    public long Max { get; private set; }

    public double Sum { get; private set; }

    public double Mean => Count == 0 ? 0 : Sum / Count;

    public void Record(long nanoseconds)
    {
        var value = Math.Clamp(nanoseconds, 0, HighestTrackable);
        _counts[IndexOf(value)]++;
        Count++;
        Sum += nanoseconds;
        Min = Math.Min(Min, nanoseconds);
        Max = Math.Max(Max, nanoseconds);
    }

    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        Sum += other.Sum;
        Min = Math.Min(Min, other.Min);
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>
    /// The value at <paramref name="percentile"/> (0-100]: the middle of the bucket holding the sample ranked
    /// ceil(p/100 * count), never above the largest value recorded. 0 when empty.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Math.Clamp(MiddleOf(i), Min, Max);
            }
        }

        return Max;
    }

    private static int IndexOf(long value)
    {
        if (value < LinearLimit)
        {
            return (int)value;
        }

        var highestBit = 63 - BitOperations.LeadingZeroCount((ulong)value);
        var shift = highestBit - SubBucketBits;
        return LinearLimit + ((shift - 1) * SubBucketCount) + (int)((value >> shift) - SubBucketCount);
    }

    private static long MiddleOf(int index)
    {
        if (index < LinearLimit)
        {
            return index;
        }

        var offset = index - LinearLimit;
        var shift = (offset / SubBucketCount) + 1;
        var lowest = (long)((offset % SubBucketCount) + SubBucketCount) << shift;
        return lowest + ((1L << shift) / 2);
    }
}
