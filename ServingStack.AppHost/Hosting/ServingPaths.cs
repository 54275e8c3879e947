namespace ServingStack.AppHost.Hosting;

/// <summary>
/// Where things live inside a published container; the same paths go into aspire-manifest.json and the Kubernetes
/// objects, so the two describe one deployment. Locally the graph uses folders under <c>.servingstack/</c> instead.
/// </summary>
public static class ServingPaths
{
    /// <summary>The model repository (an emptyDir the sync fills and the server reads).</summary>
    public const string ModelStore = "/models";

    /// <summary>
    /// Where a server fills its own repository at start (the sync's <c>--once</c> pass in its process) when it runs
    /// without our sidecar, as in a deployment generated from aspire-manifest.json: writable by a non-root user in any image.
    /// </summary>
    public const string StartupSyncModelStore = "/tmp/models";

    /// <summary>The folder the service's ConfigMap is mounted at.</summary>
    public const string ConfigFolder = "/etc/servingstack";

    public const string ModelConfigFileName = "models.config";

    public const string BatchingConfigFileName = "batching.config";

    public const string GatewayConfigFileName = "gateway.json";

    /// <summary>The inference server's container ports, as TF Serving uses them.</summary>
    public const int RestPort = 8501;

    public const int GrpcPort = 8500;

    /// <summary>The gateway's container ports.</summary>
    public const int GatewayRestPort = 8080;

    public const int GatewayGrpcPort = 8081;

    /// <summary>The sync sidecar's health and metrics port.</summary>
    public const int ModelSyncPort = 8090;
}
