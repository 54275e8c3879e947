using System.Collections.Concurrent;
using System.Text;

namespace ServingStack.Inference.Metrics;

/// <summary>
/// A TF Serving sampler (<c>monitoring::Sampler</c>) exported as a Prometheus histogram. Bucket limits and placement
/// are TensorFlow's: a value goes to the first bucket whose limit is strictly greater (<c>std::upper_bound</c>), so the
/// <c>le="X"</c> line counts the values below X, and a value equal to a limit is counted in the next bucket, exactly
/// as tensorflow_model_server reports it.
/// </summary>
internal sealed class TfHistogram
{
    private readonly double[] _limits;
    private readonly string[] _limitTexts;
    private readonly string[] _labelNames;
    private readonly ConcurrentDictionary<TfLabelValues, Cell> _cells = new();

    public TfHistogram(string name, double[] limits, params string[] labelNames)
    {
        Name = name;
        _limits = limits;
        _labelNames = labelNames;
        _limitTexts = Array.ConvertAll(limits, TfExposition.FormatDouble);
    }

    public string Name { get; }

    /// <summary>TensorFlow's <c>Buckets::Exponential</c>: <paramref name="count"/> limits from <paramref name="scale"/>, each <paramref name="growth"/> times the last (then +Inf).</summary>
    public static double[] Exponential(double scale, double growth, int count)
    {
        var limits = new double[count];
        var bound = scale;
        for (var i = 0; i < count; i++)
        {
            limits[i] = bound;
            // Repeated multiplication, as TensorFlow computes them, so the printed limits are the same numbers.
            bound *= growth;
        }

        return limits;
    }

    public void Observe(in TfLabelValues labels, double value)
    {
        var cell = _cells.GetOrAdd(labels, static (_, buckets) => new Cell(buckets), _limits.Length + 1);
        Interlocked.Increment(ref cell.Counts[UpperBound(_limits, value)]);
        double seen, sum;
        do
        {
            seen = Volatile.Read(ref cell.Sum);
            sum = seen + value;
        }
        while (Interlocked.CompareExchange(ref cell.Sum, sum, seen) != seen);
    }

    /// <summary>The index of the first limit greater than <paramref name="value"/>; the +Inf bucket when none is.</summary>
    public static int UpperBound(double[] limits, double value)
    {
        int low = 0, high = limits.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (limits[middle] <= value)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    public void WriteTo(StringBuilder text)
    {
        text.Append("# TYPE ").Append(Name).Append(" histogram\n");
        var cells = _cells.ToList();
        cells.Sort((x, y) => x.Key.CompareTo(y.Key));
        foreach (var (labels, cell) in cells)
        {
            var cumulative = 0L;
            for (var i = 0; i < cell.Counts.Length; i++)
            {
                cumulative += Volatile.Read(ref cell.Counts[i]);
                text.Append(Name).Append("_bucket{").AppendLabels(_labelNames, labels);
                if (_labelNames.Length > 0)
                {
                    text.Append(',');
                }

                text.Append("le=\"").Append(i < _limitTexts.Length ? _limitTexts[i] : "+Inf").Append("\"} ").AppendInteger(cumulative).Append('\n');
            }

            // TF writes the braces even for a series without labels (NAME_sum{} x); Prometheus reads both.
            text.Append(Name).Append("_sum{").AppendLabels(_labelNames, labels).Append("} ")
                .Append(TfExposition.FormatDouble(Volatile.Read(ref cell.Sum))).Append('\n');
            text.Append(Name).Append("_count{").AppendLabels(_labelNames, labels).Append("} ").AppendInteger(cumulative).Append('\n');
        }
    }

    private sealed class Cell(int buckets)
    {
        public readonly long[] Counts = new long[buckets];
        public double Sum;
    }
}
