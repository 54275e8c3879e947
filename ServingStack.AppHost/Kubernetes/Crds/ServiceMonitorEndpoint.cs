namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>One scraped port of the selected Services, by the Service port's name.</summary>
public sealed class ServiceMonitorEndpoint
{
    public string Port { get; set; } = "";

    public string? Path { get; set; }

    public string? Interval { get; set; }

    public string? ScrapeTimeout { get; set; }
}
