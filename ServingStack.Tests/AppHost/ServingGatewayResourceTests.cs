using Aspire.Hosting;
using ServingStack.AppHost.Hosting;

namespace ServingStack.Tests.AppHost;

/// <summary>The gateway's routing configuration as the hosting extensions derive it from the graph.</summary>
public sealed class ServingGatewayResourceTests
{
    [Fact]
    public void Split_pins_each_target_to_its_services_label_and_version_with_weights_summing_to_100()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var stable = builder.AddInferenceService("stable-svc").WithModel("mnist", version: 1, label: "stable");
        var canary = builder.AddInferenceService("canary-svc").WithModel("mnist", version: 2);
        var gateway = builder.AddServingGateway("gw").WithSplit("mnist", stable, canary, canaryWeight: 25, stickyHeader: "X-User");

        var config = gateway.Resource.RoutingConfiguration();

        // No routes (the gateway derives them from the splits) and so no value with a brace.
        Assert.DoesNotContain(config.Keys, k => k.StartsWith("ReverseProxy:Routes:", StringComparison.Ordinal));
        Assert.DoesNotContain(config.Values, v => v.Contains('{', StringComparison.Ordinal) || v.Contains('}', StringComparison.Ordinal));
        Assert.False(config.ContainsKey("Gateway:DefaultCluster"));
        Assert.Equal("http://_rest.canary-svc", config["ReverseProxy:Clusters:canary-svc:Destinations:canary-svc:Address"]);
        Assert.Equal("http://_grpc.canary-svc", config["ReverseProxy:Clusters:canary-svc-grpc:Destinations:canary-svc:Address"]);
        Assert.Equal("2", config["ReverseProxy:Clusters:canary-svc-grpc:HttpRequest:Version"]);
        Assert.Equal("X-User", config["Gateway:Splits:mnist:StickyHeader"]);
        Assert.Equal(("stable", "stable-svc", "stable", "1", "75"), Target(0));
        // No "canary" label on the canary service: pinned by its only version, no label.
        Assert.Equal(("canary", "canary-svc", null, "2", "25"), Target(1));
        Assert.False(config.ContainsKey("Gateway:Splits:mnist:Targets:2:Name"));

        (string, string, string?, string, string) Target(int i) => (
            config[$"Gateway:Splits:mnist:Targets:{i}:Name"],
            config[$"Gateway:Splits:mnist:Targets:{i}:Cluster"],
            config.GetValueOrDefault($"Gateway:Splits:mnist:Targets:{i}:Label"),
            config[$"Gateway:Splits:mnist:Targets:{i}:Version"],
            config[$"Gateway:Splits:mnist:Targets:{i}:Weight"]);
    }

    [Fact]
    public void Without_a_split_the_first_referenced_service_is_the_default_cluster_for_derived_routes()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var first = builder.AddInferenceService("first").WithModel("mnist", version: 1);
        var second = builder.AddInferenceService("second").WithModel("mnist", version: 2);
        var gateway = builder.AddServingGateway("gw").WithReference(first).WithReference(second);

        var config = gateway.Resource.RoutingConfiguration();

        Assert.Equal("first", config["Gateway:DefaultCluster"]);
        Assert.Equal("first-grpc", config["Gateway:DefaultGrpcCluster"]);
        Assert.Equal("http://_rest.second", config["ReverseProxy:Clusters:second:Destinations:second:Address"]);
        Assert.DoesNotContain(config.Keys, k => k.StartsWith("ReverseProxy:Routes:", StringComparison.Ordinal));
    }

    [Fact]
    public void Split_refuses_a_service_that_does_not_serve_the_model()
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var stable = builder.AddInferenceService("a").WithModel("mnist", version: 1);
        var canary = builder.AddInferenceService("b").WithModel("other", version: 1);

        var error = Assert.Throws<InvalidOperationException>(() => builder.AddServingGateway("gw").WithSplit("mnist", stable, canary, canaryWeight: 10));
        Assert.Equal("Split 'mnist': 'b' does not serve 'mnist'; call WithModel(\"mnist\", ...) on it first.", error.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void Split_refuses_a_canary_weight_outside_0_to_100(int weight)
    {
        var builder = DistributedApplication.CreateBuilder([]);
        var stable = builder.AddInferenceService("a").WithModel("mnist", version: 1);
        var canary = builder.AddInferenceService("b").WithModel("mnist", version: 2);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => builder.AddServingGateway("gw").WithSplit("mnist", stable, canary, weight));
        Assert.Equal("canaryWeight", error.ParamName);
    }
}
