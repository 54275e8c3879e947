using System.Diagnostics;
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

    public static async Task<string> RunAsync(string outputFolder)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = BuiltProject.RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // --clear-cache: Aspire otherwise reuses parameter values saved by an earlier publish on this machine.
        foreach (var arg in new[] { BuiltProject.DllPath("ServingStack.AppHost"), "--operation", "publish", "--step", KubernetesPublisher.StepName, "--output-path", outputFolder, "--clear-cache", "true" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"publish-kubernetes exited {process.ExitCode}:\n{output}");
        return output;
    }

    /// <summary>Every file under <paramref name="folder"/>, by '/'-separated relative path, in ordinal order.</summary>
    public static SortedDictionary<string, string> ReadFolder(string folder) =>
        new(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace('\\', '/'), File.ReadAllText), StringComparer.Ordinal);
}
