namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>A simple load balancing algorithm (<c>LEAST_REQUEST</c>, <c>ROUND_ROBIN</c>, ...).</summary>
public sealed class DestinationRuleLoadBalancer
{
    public string Simple { get; set; } = "";
}
