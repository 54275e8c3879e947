namespace ServingStack.Gateway.Splits;

/// <summary>A target of a split: a YARP cluster, optionally a version or label to pin, and an integer weight.</summary>
public sealed class SplitTargetOptions
{
    public string Name { get; set; } = "";

    /// <summary>The YARP cluster (from <c>ReverseProxy:Clusters</c>) for REST requests.</summary>
    public string Cluster { get; set; } = "";

    /// <summary>The cluster for gRPC requests (h2c destinations); gRPC is not split for a model whose targets lack one.</summary>
    public string? GrpcCluster { get; set; }

    /// <summary>Pins REST requests to this version (<c>/versions/{v}</c>), for v1 and v2.</summary>
    public long? Version { get; set; }

    /// <summary>Pins v1 requests to this label (<c>/labels/{l}</c>); v2 has no labels, so <see cref="Version"/> must be set too.</summary>
    public string? Label { get; set; }

    public int Weight { get; set; }
}
