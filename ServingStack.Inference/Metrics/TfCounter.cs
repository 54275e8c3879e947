using System.Collections.Concurrent;
using System.Text;

namespace ServingStack.Inference.Metrics;

/// <summary>A TF Serving counter (<c>monitoring::Counter</c>): an integer per label set, exported as <c>NAME{labels} N</c>.</summary>
internal sealed class TfCounter(string name, params string[] labelNames)
{
    private readonly ConcurrentDictionary<TfLabelValues, Cell> _cells = new();

    public string Name { get; } = name;

    public void Add(in TfLabelValues labels, long amount) =>
        Interlocked.Add(ref _cells.GetOrAdd(labels, static _ => new Cell()).Value, amount);

    public void WriteTo(StringBuilder text)
    {
        text.Append("# TYPE ").Append(Name).Append(" counter\n");
        foreach (var (labels, cell) in Sorted())
        {
            text.Append(Name).Append('{').AppendLabels(labelNames, labels).Append("} ").AppendInteger(Volatile.Read(ref cell.Value)).Append('\n');
        }
    }

    private List<KeyValuePair<TfLabelValues, Cell>> Sorted()
    {
        var cells = _cells.ToList();
        cells.Sort((x, y) => x.Key.CompareTo(y.Key));
        return cells;
    }

    private sealed class Cell
    {
        public long Value;
    }
}
