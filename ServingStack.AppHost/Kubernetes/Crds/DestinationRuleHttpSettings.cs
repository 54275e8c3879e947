namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>HTTP limits: requests waiting for a connection, and concurrent requests.</summary>
public sealed class DestinationRuleHttpSettings
{
    public int? Http1MaxPendingRequests { get; set; }

    public int? Http2MaxRequests { get; set; }

    public string? IdleTimeout { get; set; }
}
