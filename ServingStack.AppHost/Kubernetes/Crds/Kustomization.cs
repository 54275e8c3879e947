namespace ServingStack.AppHost.Kubernetes.Crds;

/// <summary>A kustomize <c>kustomization.yaml</c> listing its files (<c>kubectl apply -k</c>); not a cluster object.</summary>
public sealed class Kustomization
{
    public const string KubeApiVersion = "kustomize.config.k8s.io/v1beta1";

    public const string KubeKind = "Kustomization";

    public string ApiVersion { get; set; } = KubeApiVersion;

    public string Kind { get; set; } = KubeKind;

    public List<string> Resources { get; set; } = [];
}
