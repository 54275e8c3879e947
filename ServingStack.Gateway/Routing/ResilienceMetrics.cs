using System.Diagnostics;
using System.Diagnostics.Metrics;
using ServingStack.Gateway.Metrics;

namespace ServingStack.Gateway.Routing;

/// <summary>Retries on the gateway's meter (<see cref="GatewayMetrics.MeterName"/>).</summary>
public sealed class ResilienceMetrics
{
    private readonly Counter<long> _retries;

    public ResilienceMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(GatewayMetrics.MeterName);
        _retries = meter.CreateCounter<long>("gateway.retries", "{request}", "Requests re-sent to another destination after forwarding failed before any response.");
    }

    public void RecordRetry(string cluster, string failedDestination) =>
        _retries.Add(1, new TagList { { "cluster", cluster }, { "destination", failedDestination } });
}
