using k8s;
using k8s.Models;
using ServingStack.AppHost.Kubernetes;
using ServingStack.AppHost.Kubernetes.Crds;
using YamlDotNet.Core;

namespace ServingStack.Tests.Kubernetes;

/// <summary>Every published file is well-formed: strict typed parsing, required fields, labels, the kustomization.</summary>
[Collection(KubernetesManifestsCollection.Name)]
public sealed class ManifestStructureTests(PublishedManifests published)
{
    private const string Namespace = "servingstack";

    [Fact]
    public void Published_folder_holds_the_expected_files_and_kinds()
    {
        var kinds = published.Objects.ToDictionary(f => f.Key, f => string.Join(",", f.Value.Select(KindOf)));
        Assert.Equal(new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["edge-istio/destination-rule.yaml"] = "DestinationRule,DestinationRule",
            ["edge-istio/gateway.yaml"] = "Gateway,NetworkPolicy",
            ["edge-istio/kustomization.yaml"] = "Kustomization",
            ["edge-istio/virtual-service.yaml"] = "VirtualService",
            ["edge-nginx/ingress.yaml"] = "Ingress,Ingress,NetworkPolicy",
            ["edge-nginx/kustomization.yaml"] = "Kustomization",
            ["gateway.yaml"] = "ConfigMap,Deployment,Service,PodDisruptionBudget,Ingress,Ingress",
            ["inference-canary.yaml"] = "ConfigMap,Deployment,Service,PodDisruptionBudget",
            ["inference.yaml"] = "ConfigMap,Deployment,Service,HorizontalPodAutoscaler,PodDisruptionBudget",
            ["kustomization.yaml"] = "Kustomization",
            ["monitoring.yaml"] = "ServiceMonitor,ServiceMonitor,ServiceMonitor,PrometheusRule,ConfigMap",
            ["namespace.yaml"] = "Namespace,ResourceQuota,LimitRange",
            ["network-policy.yaml"] = "NetworkPolicy",
            ["rbac.yaml"] = "ServiceAccount,ServiceAccount,ServiceAccount,Role,RoleBinding",
        }, kinds);
    }

    [Fact]
    public void Strict_parsing_rejects_an_unknown_field_in_a_builtin_and_in_our_crd_models()
    {
        // The strict parse in the fixture is only a check if it can fail: a misspelt field must throw.
        var deployment = published.Files["inference.yaml"].Replace("      automountServiceAccountToken: false", "      automountServiceAccountToken: false\n      automountToken: false", StringComparison.Ordinal);
        Assert.NotEqual(published.Files["inference.yaml"], deployment);
        Assert.ThrowsAny<YamlException>(() => KubernetesYaml.LoadAllFromString(deployment, KubernetesPublish.CustomTypes, strict: true));

        var monitor = published.Files["monitoring.yaml"].Replace("    path: /metrics\n", "    path: /metrics\n    honorLabelz: true\n", StringComparison.Ordinal);
        Assert.NotEqual(published.Files["monitoring.yaml"], monitor);
        Assert.ThrowsAny<YamlException>(() => KubernetesYaml.LoadAllFromString(monitor, KubernetesPublish.CustomTypes, strict: true));

        var istio = $"{KubernetesPublisher.IstioFolder}/virtual-service.yaml";
        var virtualService = published.Files[istio].Replace("        port:\n", "        subset: canary\n        port:\n", StringComparison.Ordinal);
        Assert.NotEqual(published.Files[istio], virtualService);
        Assert.ThrowsAny<YamlException>(() => KubernetesYaml.LoadAllFromString(virtualService, KubernetesPublish.CustomTypes, strict: true));
    }

    [Fact]
    public void Every_object_names_itself_and_lives_in_the_application_namespace()
    {
        foreach (var obj in published.Objects.Values.SelectMany(o => o).OfType<IKubernetesObject<V1ObjectMeta>>())
        {
            var where = $"{obj.Kind} {obj.Metadata?.Name}";
            Assert.False(string.IsNullOrEmpty(obj.ApiVersion), where);
            Assert.False(string.IsNullOrEmpty(obj.Metadata?.Name), where);
            Assert.Equal(obj is V1Namespace ? null : Namespace, obj.Metadata!.NamespaceProperty);
        }

        Assert.Equal(Namespace, published.Single<V1Namespace>(Namespace).Metadata.Name);
    }

    [Fact]
    public void Every_object_carries_the_recommended_labels()
    {
        foreach (var obj in published.Objects.Values.SelectMany(o => o).OfType<IKubernetesObject<V1ObjectMeta>>())
        {
            var labels = obj.Metadata.Labels ?? new Dictionary<string, string>();
            foreach (var key in new[] { "app.kubernetes.io/name", "app.kubernetes.io/component", "app.kubernetes.io/part-of", "app.kubernetes.io/version" })
            {
                Assert.True(labels.ContainsKey(key), $"{obj.Kind} {obj.Metadata.Name} has no label {key}.");
            }

            Assert.Equal("servingstack", labels["app.kubernetes.io/part-of"]);
            Assert.Equal("0.1.0", labels["app.kubernetes.io/version"]);
        }

        // Pods carry them too (the Deployment's selector uses only the labels that never change).
        foreach (var deployment in published.All<V1Deployment>())
        {
            Assert.Equal("0.1.0", deployment.Spec.Template.Metadata.Labels["app.kubernetes.io/version"]);
            Assert.DoesNotContain("app.kubernetes.io/version", deployment.Spec.Selector.MatchLabels.Keys);
        }
    }

    [Fact]
    public void Required_fields_of_workloads_and_services_are_present()
    {
        foreach (var deployment in published.All<V1Deployment>())
        {
            Assert.NotNull(deployment.Spec.Selector?.MatchLabels);
            Assert.NotNull(deployment.Spec.Template?.Spec);
            foreach (var container in ManifestReferences.AllContainers(deployment.Spec.Template.Spec))
            {
                Assert.False(string.IsNullOrEmpty(container.Name));
                Assert.Matches(@"^localhost:5000/servingstack/servingstack-(inference|modelsync|gateway):0\.1\.0$", container.Image);
                Assert.NotNull(container.Resources?.Requests);
                Assert.NotNull(container.Resources?.Limits);
            }
        }

        foreach (var service in published.All<V1Service>())
        {
            Assert.NotEmpty(service.Spec.Ports);
            Assert.All(service.Spec.Ports, p => Assert.False(string.IsNullOrEmpty(p.Name)));
            Assert.NotEmpty(service.Spec.Selector);
        }

        Assert.All(published.All<PrometheusRule>().SelectMany(r => r.Spec.Groups).SelectMany(g => g.Rules), r =>
        {
            Assert.False(string.IsNullOrEmpty(r.Alert));
            Assert.False(string.IsNullOrEmpty(r.Expr));
        });
    }

    [Theory]
    [InlineData("")]
    [InlineData(KubernetesPublisher.EdgeFolder)]
    [InlineData(KubernetesPublisher.IstioFolder)]
    public void Kustomization_lists_exactly_the_yaml_files_of_its_folder(string folder)
    {
        var prefix = folder.Length == 0 ? "" : folder + "/";
        var kustomization = Assert.Single(published.Objects[prefix + "kustomization.yaml"].OfType<Kustomization>());
        var files = published.Files.Keys
            .Where(p => p.StartsWith(prefix, StringComparison.Ordinal) && !p[prefix.Length..].Contains('/', StringComparison.Ordinal))
            .Select(p => p[prefix.Length..])
            .Where(p => p != "kustomization.yaml")
            .Order(StringComparer.Ordinal);
        Assert.Equal(files, kustomization.Resources.Order(StringComparer.Ordinal));
        Assert.Equal(kustomization.Resources.Distinct().Count(), kustomization.Resources.Count);
    }

    [Fact]
    public void Secrets_are_referenced_by_name_and_never_written()
    {
        Assert.DoesNotContain(published.Objects.Values.SelectMany(o => o), o => o is V1Secret);
        Assert.DoesNotContain(published.Files.Values, text => text.Contains("kind: Secret", StringComparison.Ordinal));
        var gateway = Assert.Single(published.Single<V1Deployment>("gateway").Spec.Template.Spec.Containers);
        var secret = Assert.Single(gateway.EnvFrom).SecretRef;
        Assert.Equal("gateway-secrets", secret.Name);
        Assert.True(secret.Optional);
        Assert.All(published.All<V1Ingress>(), i => Assert.Equal("servingstack-tls", Assert.Single(i.Spec.Tls).SecretName));
    }

    private static string KindOf(object obj) => obj switch
    {
        IKubernetesObject k => k.Kind,
        Kustomization k => k.Kind,
        _ => obj.GetType().Name,
    };
}
