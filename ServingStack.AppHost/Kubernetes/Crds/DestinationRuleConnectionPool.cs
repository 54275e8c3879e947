namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Connection and request limits each client proxy applies to the host.</summary>
public sealed class DestinationRuleConnectionPool
{
    public DestinationRuleTcpSettings? Tcp { get; set; }

    public DestinationRuleHttpSettings? Http { get; set; }
}
