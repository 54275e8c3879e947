using Microsoft.Extensions.Configuration;
using ServingStack.Gateway.Routing;

namespace ServingStack.Tests.Gateway;

/// <summary>The routes the gateway derives from its splits, and how explicit ReverseProxy routes replace them.</summary>
public sealed class DefaultRoutesTests
{
    private static readonly Dictionary<string, string?> Split = new()
    {
        ["Gateway:Splits:mnist:Targets:0:Name"] = "stable",
        ["Gateway:Splits:mnist:Targets:0:Cluster"] = "stable-rest",
        ["Gateway:Splits:mnist:Targets:0:GrpcCluster"] = "stable-grpc",
        ["Gateway:Splits:mnist:Targets:1:Name"] = "canary",
        ["Gateway:Splits:mnist:Targets:1:Cluster"] = "canary-rest",
        ["Gateway:Splits:mnist:Targets:1:GrpcCluster"] = "canary-grpc",
    };

    [Fact]
    public void A_split_gives_rest_routes_to_its_stable_cluster_and_grpc_routes_to_its_stable_grpc_cluster()
    {
        var routes = DefaultRoutes.Derive(Configuration(Split));

        Assert.Equal(
        [
            ("v1", "/v1/{**rest}", "stable-rest"),
            ("v2", "/v2/{**rest}", "stable-rest"),
            ("grpc", "/inference.GRPCInferenceService/{**rest}", "stable-grpc"),
            ("grpc-tf-prediction", "/tensorflow.serving.PredictionService/{**rest}", "stable-grpc"),
            ("grpc-tf-model", "/tensorflow.serving.ModelService/{**rest}", "stable-grpc"),
        ], routes.Select(r => (r.RouteId, r.Match.Path!, r.ClusterId!)));
    }

    [Fact]
    public void The_named_stable_target_of_the_first_split_by_model_name_decides()
    {
        var settings = new Dictionary<string, string?>(Split)
        {
            ["Gateway:Splits:mnist:Stable"] = "canary",
            ["Gateway:Splits:zeta:Targets:0:Name"] = "only",
            ["Gateway:Splits:zeta:Targets:0:Cluster"] = "zeta-rest",
        };

        var routes = DefaultRoutes.Derive(Configuration(settings));

        Assert.All(routes.Where(r => r.RouteId.StartsWith('v')), r => Assert.Equal("canary-rest", r.ClusterId));
        Assert.All(routes.Where(r => r.RouteId.StartsWith("grpc", StringComparison.Ordinal)), r => Assert.Equal("canary-grpc", r.ClusterId));
    }

    [Fact]
    public void Explicit_routes_with_the_same_id_or_path_win_and_the_others_stay()
    {
        var settings = new Dictionary<string, string?>(Split)
        {
            ["ReverseProxy:Routes:v1:ClusterId"] = "mine",
            ["ReverseProxy:Routes:v1:Match:Path"] = "/v1/models/{**rest}",
            ["ReverseProxy:Routes:open-inference:ClusterId"] = "mine-grpc",
            ["ReverseProxy:Routes:open-inference:Match:Path"] = "/inference.GRPCInferenceService/{**rest}",
        };

        var routes = DefaultRoutes.Derive(Configuration(settings));

        Assert.Equal(["v2", "grpc-tf-prediction", "grpc-tf-model"], routes.Select(r => r.RouteId));
    }

    [Fact]
    public void Without_grpc_clusters_only_rest_routes_are_derived_and_without_splits_none()
    {
        var rest = DefaultRoutes.Derive(Configuration(new Dictionary<string, string?>
        {
            ["Gateway:Splits:mnist:Targets:0:Name"] = "stable",
            ["Gateway:Splits:mnist:Targets:0:Cluster"] = "stable-rest",
        }));
        Assert.Equal(["v1", "v2"], rest.Select(r => r.RouteId));

        Assert.Empty(DefaultRoutes.Derive(Configuration(new Dictionary<string, string?> { ["ReverseProxy:Routes:v1:ClusterId"] = "x" })));
    }

    [Fact]
    public void Default_clusters_route_everything_when_there_is_no_split()
    {
        var routes = DefaultRoutes.Derive(Configuration(new Dictionary<string, string?>
        {
            ["Gateway:DefaultCluster"] = "inference",
            ["Gateway:DefaultGrpcCluster"] = "inference-grpc",
        }));

        Assert.Equal(["inference", "inference", "inference-grpc", "inference-grpc", "inference-grpc"], routes.Select(r => r.ClusterId));
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
