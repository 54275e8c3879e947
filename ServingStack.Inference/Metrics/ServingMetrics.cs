using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ServingStack.Inference.Metrics;

/// <summary>
/// The server's instruments (meter <c>ServingStack.Inference</c>), exported over OTLP and as Prometheus text at
/// <c>/metrics</c>. Names follow OpenTelemetry's conventions; the Prometheus exporter turns <c>servingstack.requests</c>
/// into <c>servingstack_requests_total</c> and adds unit suffixes (<c>_seconds</c>).
/// </summary>
public sealed class ServingMetrics : IDisposable
{
    public const string MeterName = "ServingStack.Inference";

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;

    public ServingMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _requests = _meter.CreateCounter<long>("servingstack.requests", "{request}", "Inference requests by model, version, protocol and status.");
        _requestDuration = _meter.CreateHistogram<double>("servingstack.request.duration", "s", "Time from request to response, by model, version and protocol.");
    }

    public Meter Meter => _meter;

    /// <summary>Counts one finished inference request and its duration. <paramref name="status"/> is the canonical code name (OK, INVALID_ARGUMENT...).</summary>
    public void RecordRequest(string model, string version, string protocol, string status, TimeSpan duration)
    {
        var tags = new TagList
        {
            { "model", model },
            { "version", version },
            { "protocol", protocol },
            { "status", status },
        };
        _requests.Add(1, tags);
        _requestDuration.Record(duration.TotalSeconds, tags);
    }

    public void Dispose() => _meter.Dispose();
}
