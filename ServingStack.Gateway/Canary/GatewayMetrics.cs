using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ServingStack.Gateway.Canary;

/// <summary>The gateway's meter: requests, errors and latency per model and target, canary rollbacks and promotions.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "ServingStack.Gateway";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _rollbacks;
    private readonly Counter<long> _promotionSteps;
    private readonly Counter<long> _promotions;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("gateway.requests", "{request}", "Inference requests split by the gateway.");
        _errors = meter.CreateCounter<long>("gateway.errors", "{request}", "Split requests that failed on the server's side: 5xx, gRPC server errors, transport errors (not the client's own errors).");
        _duration = meter.CreateHistogram<double>("gateway.request.duration", "s", "Time from the split decision to the end of the response.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _rollbacks = meter.CreateCounter<long>("gateway.canary.rollbacks", "{rollback}", "Canaries whose weight analysis set to 0.");
        _promotionSteps = meter.CreateCounter<long>("gateway.canary.promotion.steps", "{step}", "Promotion steps taken, by the canary's new weight in percent.");
        _promotions = meter.CreateCounter<long>("gateway.canary.promotions", "{promotion}", "Promotions completed: canaries that reached 100%.");
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

    public void RecordRollback(string model, string target) =>
        _rollbacks.Add(1, new TagList { { "model", model }, { "target", target } });

    public void RecordPromotionStep(string model, string target, int percent) =>
        _promotionSteps.Add(1, new TagList { { "model", model }, { "target", target }, { "weight", percent } });

    public void RecordPromotionCompleted(string model, string target) =>
        _promotions.Add(1, new TagList { { "model", model }, { "target", target } });
}
