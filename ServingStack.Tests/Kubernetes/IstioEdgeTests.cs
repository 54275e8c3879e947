using System.Text;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using ServingStack.AppHost.Kubernetes;
using ServingStack.AppHost.Kubernetes.Crds;

namespace ServingStack.Tests.Kubernetes;

/// <summary>The optional Istio variant (edge-istio/): the gateway's splits as VirtualServices, DestinationRules per inference service.</summary>
[Collection(KubernetesManifestsCollection.Name)]
public sealed class IstioEdgeTests(PublishedManifests published)
{
    private const string Namespace = "servingstack";

    private List<VirtualService> VirtualServices => [.. published.InFolder<VirtualService>(KubernetesPublisher.IstioFolder)];

    [Fact]
    public void Every_split_of_the_graph_is_a_virtual_service_with_its_weights()
    {
        var splits = GatewaySplits();
        Assert.NotEmpty(splits);
        Assert.Equal(splits.Keys.Order(StringComparer.Ordinal), VirtualServices.Select(v => v.Metadata.Name["edge-".Length..]).Order(StringComparer.Ordinal));
        foreach (var (model, targets) in splits)
        {
            var weighted = Assert.Single(Vs(model).Spec.Http, r => r.Match!.All(m => m.Headers is null));
            Assert.Equal(targets.Select(t => (Host(t.Service), (int?)t.Weight)), weighted.Route.Select(r => (r.Destination.Host, r.Weight)));
            Assert.Equal(100, weighted.Route.Sum(r => r.Weight ?? 0));
            Assert.All(weighted.Match!, m => Assert.Null(m.Uri!.Exact));
            Assert.Equal([$"/v1/models/{model}", $"/v2/models/{model}"], weighted.Match!.Select(m => m.Uri!.Prefix));
        }
    }

    [Fact]
    public void Canary_header_routes_come_first_and_pin_like_the_gateways_override()
    {
        foreach (var (model, targets) in GatewaySplits())
        {
            var routes = Vs(model).Spec.Http;
            Assert.Equal(3, routes.Count);
            // First match wins: both header routes must precede the weighted one.
            var always = routes[0];
            var never = routes[1];
            Assert.All(always.Match!, m => Assert.Equal("always", m.Headers!["x-canary"].Exact));
            Assert.All(never.Match!, m => Assert.Equal("never", m.Headers!["x-canary"].Exact));
            Assert.Equal(Host(targets[1].Service), Assert.Single(always.Route).Destination.Host);
            Assert.Equal(Host(targets[0].Service), Assert.Single(never.Route).Destination.Host);
            Assert.All([always, never], r => Assert.Equal(routes[2].Match!.Select(m => m.Uri!.Prefix), r.Match!.Select(m => m.Uri!.Prefix)));
        }
    }

    [Fact]
    public void Destinations_are_published_services_on_their_rest_port_behind_the_tls_gateway()
    {
        var services = published.All<V1Service>().ToDictionary(s => Host(s.Metadata.Name), StringComparer.Ordinal);
        foreach (var destination in VirtualServices.SelectMany(v => v.Spec.Http).SelectMany(r => r.Route).Select(r => r.Destination))
        {
            Assert.True(services.TryGetValue(destination.Host, out var service), $"{destination.Host} is not a published Service.");
            Assert.Equal(service.Spec.Ports.Single(p => p.Name == "rest").Port, destination.Port.Number);
            Assert.Equal(8501, destination.Port.Number);
        }

        var gateway = Assert.Single(published.InFolder<IstioGateway>(KubernetesPublisher.IstioFolder));
        var server = Assert.Single(gateway.Spec.Servers);
        Assert.Equal(("HTTPS", 443, "SIMPLE", "servingstack-tls"), (server.Port.Protocol, server.Port.Number, server.Tls!.Mode, server.Tls.CredentialName));
        Assert.All(VirtualServices, v =>
        {
            Assert.Equal([gateway.Metadata.Name], v.Spec.Gateways);
            Assert.Equal(["serving.example.com"], v.Spec.Hosts);
        });
        Assert.Equal(["serving.example.com"], server.Hosts);

        // The ingress gateway's namespace reaches the servers' REST port, like ingress-nginx's in edge-nginx.
        var policy = Assert.Single(published.InFolder<V1NetworkPolicy>(KubernetesPublisher.IstioFolder));
        Assert.Equal(KubernetesPublisher.IstioIngressNamespace, Assert.Single(Assert.Single(policy.Spec.Ingress).FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal("8501", Assert.Single(policy.Spec.Ingress[0].Ports).Port.Value);
    }

    [Fact]
    public void Each_inference_service_has_a_destination_rule_with_limits_and_outlier_ejection()
    {
        var rules = published.InFolder<DestinationRule>(KubernetesPublisher.IstioFolder).ToList();
        var inference = published.All<V1Deployment>().Where(d => d.Metadata.Labels["app.kubernetes.io/component"] == "inference-server").Select(d => d.Metadata.Name);
        Assert.Equal(inference.Select(Host).Order(StringComparer.Ordinal), rules.Select(r => r.Spec.Host).Order(StringComparer.Ordinal));
        Assert.All(rules, r =>
        {
            var policy = r.Spec.TrafficPolicy;
            Assert.Equal("LEAST_REQUEST", policy.LoadBalancer!.Simple);
            Assert.True(policy.ConnectionPool!.Tcp!.MaxConnections > 0);
            Assert.True(policy.ConnectionPool.Http!.Http1MaxPendingRequests > 0);
            Assert.True(policy.OutlierDetection!.ConsecutiveGatewayErrors > 0);
            // Never eject every endpoint of a Service.
            Assert.InRange(policy.OutlierDetection.MaxEjectionPercent!.Value, 1, 99);
        });
    }

    /// <summary>The graph's splits as the gateway's ConfigMap carries them: model → (service, weight) in target order.</summary>
    private Dictionary<string, List<(string Service, int Weight)>> GatewaySplits()
    {
        var json = published.Single<V1ConfigMap>("gateway-config").Data["gateway.json"];
        var config = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        return config.GetSection("Gateway:Splits").GetChildren().ToDictionary(
            s => s.Key,
            s => s.GetSection("Targets").GetChildren().OrderBy(t => int.Parse(t.Key, System.Globalization.CultureInfo.InvariantCulture))
                .Select(t => (t["Cluster"]!, int.Parse(t["Weight"]!, System.Globalization.CultureInfo.InvariantCulture))).ToList(),
            StringComparer.Ordinal);
    }

    private VirtualService Vs(string model) => Assert.Single(VirtualServices, v => v.Metadata.Name == $"edge-{model}");

    private static string Host(string service) => $"{service}.{Namespace}.svc.cluster.local";
}
