using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// Two real inference servers shared by the gateway tests. <see cref="Both"/> serves mnist v1 (seed 1) and v2 (seed 2)
/// with labels stable → 1 and canary → 2; its unversioned mnist is v2. <see cref="V1Only"/> serves only v1, so an
/// unpinned gRPC call tells by its answer which server served it.
/// </summary>
public sealed class GatewayServersFixture : IAsyncLifetime
{
    public const string Model = "mnist";
    public const int StableSeed = 1;
    public const int CanarySeed = 2;

    private readonly TempModelRepository _both = new();
    private readonly TempModelRepository _v1 = new();

    public InferenceServer Both { get; private set; } = null!;

    public InferenceServer V1Only { get; private set; } = null!;

    public MlpWeights StableWeights { get; } = MlpWeights.Create(StableSeed);

    public MlpWeights CanaryWeights { get; } = MlpWeights.Create(CanarySeed);

    public async Task InitializeAsync()
    {
        _both.AddMlp(Model, 1, StableSeed);
        _both.AddMlp(Model, 2, CanarySeed);
        var config = _both.WriteConfig("models.config", """
            model_config_list {
              config {
                name: 'mnist' base_path: 'mnist'
                model_version_policy { all {} }
                version_labels { key: 'stable' value: 1 }
                version_labels { key: 'canary' value: 2 }
              }
            }
            """);
        _v1.AddMlp(Model, 1, StableSeed);
        var v1Config = _v1.WriteConfig("models.config", "model_config_list { config { name: 'mnist' base_path: 'mnist' } }");
        var both = InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var v1 = InferenceServer.StartReadyAsync($"--model_config_file={v1Config}");
        Both = await both;
        V1Only = await v1;
    }

    public async Task DisposeAsync()
    {
        await Both.DisposeAsync();
        await V1Only.DisposeAsync();
        _both.Dispose();
        _v1.Dispose();
    }

    /// <summary>
    /// Routes /v1, /v2 and gRPC (Open Inference and TF Serving); clusters stable and canary (REST, both on <see cref="Both"/>,
    /// pinned by version/label), grpc-stable (<see cref="V1Only"/>) and grpc-canary (<see cref="Both"/>, latest = v2); a
    /// 90/10 split of mnist. <paramref name="anonymousOverrides"/> lets every client use the override headers.
    /// </summary>
    public Dictionary<string, string?> Settings(int stableWeight = 90, int canaryWeight = 10, string? canaryCluster = null, bool anonymousOverrides = false)
    {
        var settings = RoutingSettings(stableWeight, canaryWeight, canaryCluster);
        if (anonymousOverrides)
        {
            settings["Gateway:Auth:AllowAnonymousOverrides"] = "true";
        }

        return settings;
    }

    private Dictionary<string, string?> RoutingSettings(int stableWeight, int canaryWeight, string? canaryCluster) => new()
    {
        ["ReverseProxy:Routes:v1:ClusterId"] = "stable",
        ["ReverseProxy:Routes:v1:Match:Path"] = "/v1/{**rest}",
        ["ReverseProxy:Routes:v2:ClusterId"] = "stable",
        ["ReverseProxy:Routes:v2:Match:Path"] = "/v2/{**rest}",
        ["ReverseProxy:Routes:grpc:ClusterId"] = "grpc-stable",
        ["ReverseProxy:Routes:grpc:Match:Path"] = "/inference.GRPCInferenceService/{**rest}",
        ["ReverseProxy:Routes:tfs-predict:ClusterId"] = "grpc-stable",
        ["ReverseProxy:Routes:tfs-predict:Match:Path"] = "/tensorflow.serving.PredictionService/{**rest}",
        ["ReverseProxy:Routes:tfs-model:ClusterId"] = "grpc-stable",
        ["ReverseProxy:Routes:tfs-model:Match:Path"] = "/tensorflow.serving.ModelService/{**rest}",
        ["ReverseProxy:Clusters:stable:Destinations:a:Address"] = Both.Address.ToString(),
        ["ReverseProxy:Clusters:canary:Destinations:a:Address"] = canaryCluster ?? Both.Address.ToString(),
        ["ReverseProxy:Clusters:grpc-stable:Destinations:a:Address"] = V1Only.GrpcAddress.ToString(),
        ["ReverseProxy:Clusters:grpc-stable:HttpRequest:Version"] = "2",
        ["ReverseProxy:Clusters:grpc-stable:HttpRequest:VersionPolicy"] = "RequestVersionExact",
        ["ReverseProxy:Clusters:grpc-canary:Destinations:a:Address"] = Both.GrpcAddress.ToString(),
        ["ReverseProxy:Clusters:grpc-canary:HttpRequest:Version"] = "2",
        ["ReverseProxy:Clusters:grpc-canary:HttpRequest:VersionPolicy"] = "RequestVersionExact",
        ["Gateway:Splits:mnist:Targets:0:Name"] = "stable",
        ["Gateway:Splits:mnist:Targets:0:Cluster"] = "stable",
        ["Gateway:Splits:mnist:Targets:0:GrpcCluster"] = "grpc-stable",
        ["Gateway:Splits:mnist:Targets:0:Version"] = "1",
        ["Gateway:Splits:mnist:Targets:0:Weight"] = stableWeight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:Splits:mnist:Targets:1:Name"] = "canary",
        ["Gateway:Splits:mnist:Targets:1:Cluster"] = "canary",
        ["Gateway:Splits:mnist:Targets:1:GrpcCluster"] = "grpc-canary",
        ["Gateway:Splits:mnist:Targets:1:Version"] = "2",
        ["Gateway:Splits:mnist:Targets:1:Label"] = "canary",
        ["Gateway:Splits:mnist:Targets:1:Weight"] = canaryWeight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Gateway:Splits:mnist:StickyHeader"] = "X-User",
    };

    public MlpWeights WeightsOf(string target) => target switch
    {
        "stable" => StableWeights,
        "canary" => CanaryWeights,
        _ => throw new ArgumentException($"unknown target '{target}'", nameof(target)),
    };
}
