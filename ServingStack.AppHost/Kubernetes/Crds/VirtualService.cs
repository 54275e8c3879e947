using k8s;
using k8s.Models;

namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Istio's <c>networking.istio.io/v1</c> VirtualService, reduced to the fields we emit (HTTP routes only).</summary>
public sealed class VirtualService : IKubernetesObject<V1ObjectMeta>
{
    public const string KubeApiVersion = "networking.istio.io/v1";

    public const string KubeKind = "VirtualService";

    public string ApiVersion { get; set; } = KubeApiVersion;

    public string Kind { get; set; } = KubeKind;

    public V1ObjectMeta Metadata { get; set; } = new();

    public VirtualServiceSpec Spec { get; set; } = new();
}
