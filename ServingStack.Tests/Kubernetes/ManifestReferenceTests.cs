using k8s;
using k8s.Models;
using ServingStack.AppHost.Kubernetes;
using ServingStack.AppHost.Kubernetes.Crds;

namespace ServingStack.Tests.Kubernetes;

/// <summary>The published objects refer to each other consistently (ARCHITECTURE §6 "cross-check references").</summary>
[Collection(KubernetesManifestsCollection.Name)]
public sealed class ManifestReferenceTests(PublishedManifests published)
{
    private List<object> Base => [.. published.All<object>()];

    /// <summary>The edge variant is applied on top of the base, so it is checked together with it.</summary>
    private List<object> WithEdge => [.. Base, .. published.InFolder<object>(KubernetesPublisher.EdgeFolder)];

    private List<object> WithIstio => [.. Base, .. published.InFolder<object>(KubernetesPublisher.IstioFolder)];

    [Fact]
    public void Services_select_the_pods_of_exactly_one_deployment() => AssertNone(ManifestReferences.ServiceSelectors(Base));

    [Fact]
    public void Service_target_ports_and_probe_ports_are_container_ports() => AssertNone(ManifestReferences.Ports(Base));

    [Fact]
    public void Volume_mounts_name_pod_volumes_and_config_map_volumes_name_published_config_maps() => AssertNone(ManifestReferences.Volumes(Base));

    [Fact]
    public void Files_read_from_mounted_config_maps_are_their_keys_and_every_key_is_read() => AssertNone(ManifestReferences.ConfigMapKeys(Base));

    [Fact]
    public void Autoscalers_and_disruption_budgets_target_published_deployments() => AssertNone(ManifestReferences.ScaleTargets(Base));

    [Fact]
    public void Network_policies_select_published_pods_and_their_ports()
    {
        AssertNone(ManifestReferences.NetworkPolicies(WithEdge));
        AssertNone(ManifestReferences.NetworkPolicies(WithIstio));
    }

    [Fact]
    public void Service_monitors_select_one_service_each_and_scrape_its_named_ports() => AssertNone(ManifestReferences.ServiceMonitors(Base));

    [Fact]
    public void Ingresses_route_to_published_service_ports_over_tls() => AssertNone(ManifestReferences.Ingresses(WithEdge));

    [Fact]
    public void Istio_routes_and_destination_rules_name_published_service_ports() => AssertNone(ManifestReferences.Istio(WithIstio, "servingstack"));

    [Fact]
    public void Pods_run_as_published_service_accounts_and_bindings_name_published_roles() => AssertNone(ManifestReferences.Rbac(Base));

    [Fact]
    public void Environment_values_hold_no_braces_and_service_urls_have_a_scheme_and_a_service_port() => AssertNone(ManifestReferences.Environment(Base));

    [Fact]
    public void Every_service_port_serving_metrics_has_a_service_monitor()
    {
        var scraped = published.All<ServiceMonitor>()
            .SelectMany(m => m.Spec.Endpoints.Select(e => (Service: m.Metadata.Name, e.Port)))
            .ToHashSet();
        // /metrics is served on the server's and the gateway's REST port and on the sync sidecar's port.
        foreach (var service in published.All<V1Service>())
        {
            foreach (var port in service.Spec.Ports.Where(p => p.Name is "rest" or "sync-http"))
            {
                Assert.Contains((service.Metadata.Name, port.Name), scraped);
            }
        }
    }

    [Fact]
    public void Reference_checks_report_broken_selectors_ports_mounts_keys_and_targets()
    {
        // Fresh copies (the fixture's objects are shared), each broken in one place the checks must notice.
        var objects = published.Objects.Where(f => !f.Key.Contains('/', StringComparison.Ordinal))
            .SelectMany(f => KubernetesYaml.LoadAllFromString(published.Files[f.Key], KubernetesPublish.CustomTypes, strict: true))
            .ToList();
        var service = objects.OfType<V1Service>().Single(s => s.Metadata.Name == "inference-canary");
        service.Spec.Selector["app.kubernetes.io/name"] = "nobody";
        var deployment = objects.OfType<V1Deployment>().Single(d => d.Metadata.Name == "inference");
        var server = deployment.Spec.Template.Spec.Containers[0];
        server.ReadinessProbe.HttpGet.Port = "metrics";
        server.VolumeMounts[0].Name = "model";
        objects.OfType<V1ConfigMap>().Single(c => c.Metadata.Name == "inference-config").Data.Remove("batching.config");
        objects.OfType<V2HorizontalPodAutoscaler>().Single().Spec.ScaleTargetRef.Name = "inference-v2";
        objects.OfType<V1NetworkPolicy>().Single().Spec.Ingress[0].Ports[0].Port = 9999;

        var problems = ManifestReferences.All(objects);

        Assert.Contains(problems, p => p.StartsWith("Service inference-canary: its selector matches 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("readiness probe port metrics", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("names volume 'model'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("has no key 'batching.config'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("inference-v2 is not a published Deployment", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("port 9999 is not a container port", StringComparison.Ordinal));
    }

    private static void AssertNone(List<string> problems) =>
        Assert.True(problems.Count == 0, string.Join("\n", problems));
}
