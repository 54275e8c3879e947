using k8s;
using k8s.Models;

namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>The Prometheus Operator's <c>monitoring.coreos.com/v1</c> PrometheusRule, reduced to the fields we emit.</summary>
public sealed class PrometheusRule : IKubernetesObject<V1ObjectMeta>
{
    public const string KubeApiVersion = "monitoring.coreos.com/v1";

    public const string KubeKind = "PrometheusRule";

    public string ApiVersion { get; set; } = KubeApiVersion;

    public string Kind { get; set; } = KubeKind;

    public V1ObjectMeta Metadata { get; set; } = new();

    public PrometheusRuleSpec Spec { get; set; } = new();
}
