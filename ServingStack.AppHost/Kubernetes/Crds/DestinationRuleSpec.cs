namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>The Service a DestinationRule applies to (fully qualified) and the policy for traffic to it.</summary>
public sealed class DestinationRuleSpec
{
    public string Host { get; set; } = "";

    public DestinationRuleTrafficPolicy TrafficPolicy { get; set; } = new();
}
