namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Load balancing, connection limits and outlier ejection for one host.</summary>
public sealed class DestinationRuleTrafficPolicy
{
    public DestinationRuleLoadBalancer? LoadBalancer { get; set; }

    public DestinationRuleConnectionPool? ConnectionPool { get; set; }

    public DestinationRuleOutlierDetection? OutlierDetection { get; set; }
}
