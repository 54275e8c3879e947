using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ServingStack.Tests.Fixtures;

/// <summary>
/// Listens to the server's meter and keeps the measurements of one model, so a test sees what the server observed
/// (batch sizes, statuses) without a hook in product code. Tests use unique model names, so parallel servers don't mix.
/// </summary>
public sealed class MetricsRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly string _model;

    public MetricsRecorder(string model)
    {
        _model = model;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ServingStack.Inference.Metrics.ServingMetrics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public ConcurrentQueue<(string Instrument, double Value, Dictionary<string, string?> Tags)> Measurements { get; } = new();

    public IReadOnlyList<double> Values(string instrument) =>
        Measurements.Where(m => m.Instrument == instrument).Select(m => m.Value).ToList();

    public int Count(string instrument, string tag, string value) =>
        Measurements.Count(m => m.Instrument == instrument && m.Tags.TryGetValue(tag, out var v) && v == value);

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var map = new Dictionary<string, string?>();
        foreach (var tag in tags)
        {
            map[tag.Key] = tag.Value?.ToString();
        }

        if (map.TryGetValue("model", out var model) && model == _model)
        {
            Measurements.Enqueue((instrument.Name, value, map));
        }
    }

    public void Dispose() => _listener.Dispose();
}
