namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// What the published manifests need beyond the graph, resolved from the AppHost's parameters at publish time
/// (defaults, or <c>--Parameters:image-tag=1.2.3</c>, or <c>Parameters__image-tag</c>).
/// </summary>
public sealed record KubernetesPublishSettings
{
    /// <summary>Every object's namespace (created by the Namespace the publisher emits).</summary>
    public string Namespace { get; init; } = "servingstack";

    /// <summary>Images are <c>{ImageRegistry}/{project name, lower-case, dots as dashes}:{ImageTag}</c>.</summary>
    public required string ImageRegistry { get; init; }

    public required string ImageTag { get; init; }

    public required string IngressHost { get; init; }

    /// <summary>The TLS Secret (<c>kubernetes.io/tls</c>) the Ingress serves; referenced, never written.</summary>
    public required string IngressTlsSecret { get; init; }

    public string IngressClassName { get; init; } = "nginx";

    /// <summary>An optional Secret whose keys become the gateway's environment (JWT key, admin key, API keys).</summary>
    public string GatewaySecret { get; init; } = "gateway-secrets";

    /// <summary>Where Prometheus runs: the only namespace allowed to scrape the inference pods.</summary>
    public string MonitoringNamespace { get; init; } = "monitoring";
}
