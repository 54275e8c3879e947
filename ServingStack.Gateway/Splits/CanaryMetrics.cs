using System.Diagnostics;
using System.Diagnostics.Metrics;
using ServingStack.Gateway.Metrics;

namespace ServingStack.Gateway.Splits;

/// <summary>Canary rollbacks and promotions, on the gateway's meter (<see cref="GatewayMetrics.MeterName"/>).</summary>
public sealed class CanaryMetrics
{
    private readonly Counter<long> _rollbacks;
    private readonly Counter<long> _promotionSteps;
    private readonly Counter<long> _promotions;

    public CanaryMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(GatewayMetrics.MeterName);
        _rollbacks = meter.CreateCounter<long>("gateway.canary.rollbacks", "{rollback}", "Canaries whose weight analysis set to 0.");
        _promotionSteps = meter.CreateCounter<long>("gateway.canary.promotion.steps", "{step}", "Promotion steps taken, by the canary's new weight in percent.");
        _promotions = meter.CreateCounter<long>("gateway.canary.promotions", "{promotion}", "Promotions completed: canaries that reached 100%.");
    }

    public void RecordRollback(string model, string target) =>
        _rollbacks.Add(1, new TagList { { "model", model }, { "target", target } });

    public void RecordPromotionStep(string model, string target, int percent) =>
        _promotionSteps.Add(1, new TagList { { "model", model }, { "target", target }, { "weight", percent } });

    public void RecordPromotionCompleted(string model, string target) =>
        _promotions.Add(1, new TagList { { "model", model }, { "target", target } });
}
