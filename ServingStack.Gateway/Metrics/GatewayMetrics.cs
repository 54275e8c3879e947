using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ServingStack.Gateway.Metrics;

/// <summary>The gateway's meter, and its traffic on it: requests, errors and latency per model and target.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "ServingStack.Gateway";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _duration;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("gateway.requests", "{request}", "Inference requests split by the gateway.");
        _errors = meter.CreateCounter<long>("gateway.errors", "{request}", "Split requests that failed on the server's side: 5xx, gRPC server errors, transport errors (not the client's own errors).");
        _duration = meter.CreateHistogram<double>("gateway.request.duration", "s", "Time from the split decision to the end of the response.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    public void Record(string model, string target, string protocol, bool error, double seconds)
    {
        var tags = new TagList { { "model", model }, { "target", target }, { "protocol", protocol } };
        _requests.Add(1, tags);
        if (error)
        {
            _errors.Add(1, tags);
        }

        _duration.Record(seconds, tags);
    }
}
