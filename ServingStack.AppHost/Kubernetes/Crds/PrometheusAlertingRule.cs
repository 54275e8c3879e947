namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>One alerting rule: fires when <see cref="Expr"/> has results for <see cref="For"/>.</summary>
public sealed class PrometheusAlertingRule
{
    public string Alert { get; set; } = "";

    public string Expr { get; set; } = "";

    public string? For { get; set; }

    public SortedDictionary<string, string>? Labels { get; set; }

    public SortedDictionary<string, string>? Annotations { get; set; }
}
