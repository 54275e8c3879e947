namespace ServingStack.Gateway.Splits;

/// <summary>One target's counts and latencies in the current window (thread-safe).</summary>
internal sealed class TargetWindow
{
    private readonly Lock _gate = new();
    private List<double> _latencies = [];
    private int _errors;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _latencies.Count;
            }
        }
    }

    public void Add(bool error, double seconds)
    {
        lock (_gate)
        {
            _latencies.Add(seconds);
            if (error)
            {
                _errors++;
            }
        }
    }

    public WindowStats Drain()
    {
        List<double> latencies;
        int errors;
        lock (_gate)
        {
            latencies = _latencies;
            errors = _errors;
            _latencies = [];
            _errors = 0;
        }

        if (latencies.Count == 0)
        {
            return default;
        }

        latencies.Sort();
        var p99 = latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(latencies.Count * 0.99) - 1)];
        return new WindowStats(latencies.Count, errors, p99);
    }
}
