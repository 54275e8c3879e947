using k8s;
using k8s.Models;

namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>Istio's <c>networking.istio.io/v1</c> Gateway (not the Kubernetes Gateway API's): what an Istio ingress gateway listens for.</summary>
public sealed class IstioGateway : IKubernetesObject<V1ObjectMeta>
{
    public const string KubeApiVersion = "networking.istio.io/v1";

    public const string KubeKind = "Gateway";

    public string ApiVersion { get; set; } = KubeApiVersion;

    public string Kind { get; set; } = KubeKind;

    public V1ObjectMeta Metadata { get; set; } = new();

    public IstioGatewaySpec Spec { get; set; } = new();
}
