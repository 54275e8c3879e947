namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Rule groups, exactly Prometheus' own rule file shape (so <c>promtool check rules</c> reads them unchanged).</summary>
public sealed class PrometheusRuleSpec
{
    public List<PrometheusRuleGroup> Groups { get; set; } = [];
}
