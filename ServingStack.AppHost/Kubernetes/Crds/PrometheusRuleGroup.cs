namespace ServingStack.AppHost.Kubernetes.Crds;

public sealed class PrometheusRuleGroup
{
    public string Name { get; set; } = "";

    public List<PrometheusAlertingRule> Rules { get; set; } = [];
}
