using ServingStack.AppHost.Kubernetes.Crds;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>The kustomization.yaml of a folder: exactly the files beside it, in the order they were written.</summary>
internal static class KustomizationBuilder
{
    public const string FileName = "kustomization.yaml";

    public static Kustomization Create(IEnumerable<string> files) => new() { Resources = [.. files] };
}
