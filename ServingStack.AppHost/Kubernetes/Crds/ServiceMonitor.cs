using k8s;
using k8s.Models;

namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>
/// The Prometheus Operator's <c>monitoring.coreos.com/v1</c> ServiceMonitor, reduced to the fields we emit. KubernetesClient
/// has no model for it; a typed class keeps the output and the tests' strict parsing on one definition.
/// </summary>
public sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>
{
    public const string KubeApiVersion = "monitoring.coreos.com/v1";

    public const string KubeKind = "ServiceMonitor";

    public string ApiVersion { get; set; } = KubeApiVersion;

    public string Kind { get; set; } = KubeKind;

    public V1ObjectMeta Metadata { get; set; } = new();

    public ServiceMonitorSpec Spec { get; set; } = new();
}
