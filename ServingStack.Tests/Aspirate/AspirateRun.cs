//#if (kubernetes)
using System.Diagnostics;
using k8s;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Aspirate;

/// <summary>
/// What a user who deploys with aspirate gets: a fresh publish of aspire-manifest.json, turned into a kustomize folder
/// by the real aspirate (built unchanged from its public source, in <c>../shared/tools/aspirate</c>) with the README's
/// command, rendered by <c>kubectl kustomize</c> and parsed strictly with KubernetesClient's models. Done once for the
/// tests that share it.
/// </summary>
public sealed class AspirateRun : IAsyncLifetime
{
    public const string Namespace = "servingstack";

    private readonly string _work = Directory.CreateTempSubdirectory("servingstack-aspirate-").FullName;

    /// <summary>The published manifest (beside the sources: aspirate asks MSBuild about each project it names).</summary>
    public string ManifestPath { get; } = Path.Combine(BuiltProject.RepositoryRoot(), $"aspire-manifest.check-aspirate-{Guid.NewGuid():N}.json");

    /// <summary>The model source given for the one parameter: the repository's demo models (mnist versions 1 and 2).</summary>
    public string ModelSource { get; } = Path.Combine(BuiltProject.RepositoryRoot(), "models");

    public string OutputFolder => Path.Combine(_work, "out");

    public string Rendered { get; private set; } = "";

    public List<object> Objects { get; private set; } = [];

    public string AspirateLog { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await AppHostCommand.RunAsync("--publisher", "manifest", "--output-path", ManifestPath);
        var aspirate = Path.GetFullPath(Path.Combine(BuiltProject.RepositoryRoot(), "..", "shared", "tools", "aspirate", "aspirate.dll"));
        Assert.True(File.Exists(aspirate), $"{aspirate} is missing: the tests run aspirate from the shared tools folder beside the repository.");

        // The README's command (section "Publish with aspirate"), with this machine's model folder as the source.
        await RunAsync("dotnet", [aspirate, "settings", "update-checks", "disable"]);
        AspirateLog = await RunAsync("dotnet",
        [
            aspirate, "generate", "--non-interactive", "--disable-state", "--skip-build", "--disable-secrets",
            "--include-dashboard", "false", "--image-pull-policy", "IfNotPresent", "--output-format", "kustomize",
            "--namespace", Namespace, "-m", Path.GetFileName(ManifestPath),
            "--container-registry", "localhost:5000", "--container-repository-prefix", "servingstack", "--container-image-tag", "0.1.0",
            "-pa", $"modelsync-source={ModelSource}", "-o", OutputFolder,
        ]);
        Assert.True(File.Exists(Path.Combine(OutputFolder, "kustomization.yaml")), $"aspirate wrote no kustomization.yaml:\n{AspirateLog}");

        Rendered = await RunAsync("kubectl", ["kustomize", OutputFolder]);
        // Strict: an unknown or duplicate field throws, as for deploy/k8s.
        Objects = KubernetesYaml.LoadAllFromString(Rendered, strict: true);
    }

    public Task DisposeAsync()
    {
        File.Delete(ManifestPath);
        Directory.Delete(_work, recursive: true);
        return Task.CompletedTask;
    }

    private async Task<string> RunAsync(string program, string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = BuiltProject.RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // aspirate targets net9.0 (rolled forward here) and keeps its state under XDG_DATA_HOME, away from the home folder.
        start.Environment["DOTNET_ROLL_FORWARD"] = "Major";
        // The folder must exist: .NET reports a missing one as no folder, and aspirate then writes into the working directory.
        start.Environment["XDG_DATA_HOME"] = Directory.CreateDirectory(Path.Combine(_work, "xdg")).FullName;
        start.Environment["NO_COLOR"] = "1";
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException(
                $"'{program}' cannot be started ({ex.Message}). kubectl (with its built-in kustomize v5) comes with this project's machine image; " +
                "Debian's kubernetes-client (1.20) is too old for aspirate's kustomization (folders as resources).", ex);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            await process.WaitForExitAsync(timeout.Token);
            var output = await stdout;
            var errors = await stderr;
            Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {process.ExitCode}:\n{output}\n{errors}");
            return output;
        }
    }
}
//#endif
