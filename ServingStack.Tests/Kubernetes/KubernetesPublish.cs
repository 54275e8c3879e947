using ServingStack.AppHost.Kubernetes;
using ServingStack.AppHost.Kubernetes.Crds;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Kubernetes;

/// <summary>Runs the built AppHost's publish-kubernetes step, the documented command, into a folder.</summary>
public static class KubernetesPublish
{
    /// <summary>Our CRD classes, for KubernetesYaml's type map (the built-in kinds it knows by itself).</summary>
    public static IDictionary<string, Type> CustomTypes { get; } = new Dictionary<string, Type>(StringComparer.Ordinal)
    {
        [$"{ServiceMonitor.KubeApiVersion}/{ServiceMonitor.KubeKind}"] = typeof(ServiceMonitor),
        [$"{PrometheusRule.KubeApiVersion}/{PrometheusRule.KubeKind}"] = typeof(PrometheusRule),
        [$"{Kustomization.KubeApiVersion}/{Kustomization.KubeKind}"] = typeof(Kustomization),
        [$"{VirtualService.KubeApiVersion}/{VirtualService.KubeKind}"] = typeof(VirtualService),
        [$"{DestinationRule.KubeApiVersion}/{DestinationRule.KubeKind}"] = typeof(DestinationRule),
        [$"{IstioGateway.KubeApiVersion}/{IstioGateway.KubeKind}"] = typeof(IstioGateway),
    };

    // --clear-cache: Aspire otherwise reuses parameter values saved by an earlier publish on this machine.
    public static Task<string> RunAsync(string outputFolder) =>
        AppHostCommand.RunAsync("--operation", "publish", "--step", KubernetesPublisher.StepName, "--output-path", outputFolder, "--clear-cache", "true");

    /// <summary>Every file under <paramref name="folder"/>, by '/'-separated relative path, in ordinal order.</summary>
    public static SortedDictionary<string, string> ReadFolder(string folder) =>
        new(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllText), StringComparer.Ordinal);
}
