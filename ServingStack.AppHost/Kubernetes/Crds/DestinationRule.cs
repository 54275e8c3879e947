using k8s;
using k8s.Models;

namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Istio's <c>networking.istio.io/v1</c> DestinationRule, reduced to the fields we emit: one host's traffic policy.</summary>
public sealed class DestinationRule : IKubernetesObject<V1ObjectMeta>
{
    public const string KubeApiVersion = "networking.istio.io/v1";

    public const string KubeKind = "DestinationRule";

    public string ApiVersion { get; set; } = KubeApiVersion;

    public string Kind { get; set; } = KubeKind;

    public V1ObjectMeta Metadata { get; set; } = new();

    public DestinationRuleSpec Spec { get; set; } = new();
}
