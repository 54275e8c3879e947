namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Ejects an endpoint after consecutive gateway errors (502, 503, 504, connect failures) for a while.</summary>
public sealed class DestinationRuleOutlierDetection
{
    public int? ConsecutiveGatewayErrors { get; set; }

    public string? Interval { get; set; }

    public string? BaseEjectionTime { get; set; }

    public int? MaxEjectionPercent { get; set; }
}
