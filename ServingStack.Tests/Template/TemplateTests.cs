using System.IO.Compression;
using System.Text.RegularExpressions;
using ServingStack.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServingStack.Tests.Template;

/// <summary>Builds whole solutions: runs alone, after the parallel tests, so neither slows the other's timing checks.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TemplateCollection
{
    public const string Name = "dotnet new servingstack";
}

/// <summary>
/// <c>dotnet new servingstack</c> as a team uses it: the packed template, installed into its own template cache,
/// instantiated under another name, gives a solution with no trace of the old name that builds without warnings and
/// passes its own tests; the options change what they promise and the result still builds.
/// </summary>
[Collection(TemplateCollection.Name)]
public sealed partial class TemplateTests(TemplatePackage template, ITestOutputHelper output) : IClassFixture<TemplatePackage>
{
    private static readonly TimeSpan BuildLimit = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan TestLimit = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan PublishLimit = TimeSpan.FromMinutes(2);

    /// <summary>A few quick test classes of the generated solution that exercise what renaming touches: the copied
    /// demo models and config, the metric names Prometheus sees, the AppHost's Projects.* graph running, and the
    /// renamed aspire-manifest.json against a fresh publish of the renamed AppHost.</summary>
    private static readonly string[] GeneratedTestClasses = ["DemoRepositoryTests", "PrometheusMetricsTests", "AppHostTests", "AspireManifestTests", "PublishDeterminismTests"];

    [GeneratedRegex(@"^Project\(""\{[^}]+\}""\) = ""(?<name>[^""]+)"", ""(?<path>[^""]+)"", ""\{(?<guid>[^}]+)\}""", RegexOptions.Multiline)]
    private static partial Regex SolutionProject();

    [GeneratedRegex(@"(?<count>\d+) Warning\(s\)")]
    private static partial Regex WarningSummary();

    /// <summary>The console logger's summary at normal verbosity; Failed and Skipped lines follow only when not zero.</summary>
    [GeneratedRegex(@"^Total tests: (?<total>\d+)\s+Passed: (?<passed>\d+)", RegexOptions.Multiline)]
    private static partial Regex TestSummary();

    [GeneratedRegex(@"^\s*Passed (?<test>\S+)", RegexOptions.Multiline)]
    private static partial Regex PassedTest();

    /// <summary>Spellings that mean a naming form went wrong: the namespace form where a lowercase or an identifier form belongs.</summary>
    [GeneratedRegex(@"contoso\.serving|Contoso\.Serving_|Contoso_Serving(?!_)")]
    private static partial Regex MisformedName();

    /// <summary>A source path as the default instantiation names it.</summary>
    private static string Renamed(string path) => path
        .Replace("ServingStack", TemplatePackage.DefaultName, StringComparison.Ordinal)
        .Replace("servingstack", "contoso-serving", StringComparison.Ordinal);

    private string DefaultFile(string relative) => File.ReadAllText(Path.Combine(template.DefaultSolution, relative));

    private string SourceFile(string relative) => File.ReadAllText(Path.Combine(template.RepositoryRoot, relative));

    [Fact]
    public void Template_package_holds_exactly_the_files_the_template_generates_and_no_build_outputs()
    {
        output.WriteLine($"pack, install and instantiate: {template.SetupTime.TotalSeconds:0} s");
        using var package = ZipFile.OpenRead(template.PackagePath);
        var content = package.Entries
            .Where(e => e.FullName.StartsWith("content/", StringComparison.Ordinal) && !e.FullName.EndsWith('/'))
            .Select(e => e.FullName["content/".Length..])
            .ToList();
        Assert.Contains(".template.config/template.json", content);
        Assert.Contains("ServingStack.sln", content);
        Assert.Contains("models/mnist/1/model.onnx", content);

        string[] neverPacked = ["bin", "obj", ".git", "TestResults"];
        string[] neverPackedAtRoot = [".ci", "templates", "bench-results", "bench-models", "artifacts", ".servingstack"];
        var unwanted = content.Where(path =>
        {
            var parts = path.Split('/');
            return parts.SkipLast(1).Any(neverPacked.Contains) || neverPackedAtRoot.Contains(parts[0]) ||
                path.StartsWith("ServingStack.Tests/Template/", StringComparison.Ordinal) ||
                path.StartsWith("models/resnet18/", StringComparison.Ordinal);
        }).ToList();
        Assert.True(unwanted.Count == 0, $"{template.PackagePath} holds files a template must not carry:\n{string.Join('\n', unwanted)}");

        // templates/ServingStack.Templates.csproj and .template.config/template.json each list what to leave out; they agree.
        var generatedFromPackage = content
            .Where(path => !path.StartsWith(".template.config/", StringComparison.Ordinal))
            .Select(Renamed)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(generatedFromPackage, template.DefaultSolutionFiles);
    }

    [Fact]
    public void Generated_solution_has_no_servingstack_left_in_any_path_or_text_file()
    {
        var root = template.DefaultSolution;
        var files = template.DefaultSolutionFiles;
        var paths = files.Where(f => f.Contains("servingstack", StringComparison.OrdinalIgnoreCase));
        var lines = GeneratedTree.LinesContaining(root, files, "servingstack");
        var leftovers = paths.Concat(lines).ToList();
        Assert.True(leftovers.Count == 0,
            $"{leftovers.Count} paths or lines in {root} still say servingstack (any case):\n{string.Join('\n', leftovers.Take(100))}");

        // Binary files are copied as they are: the demo models only, byte for byte.
        var binaries = files.Where(f => GeneratedTree.IsBinary(Path.Combine(root, f))).ToList();
        Assert.NotEmpty(binaries);
        Assert.All(binaries, f =>
        {
            Assert.EndsWith(".onnx", f, StringComparison.Ordinal);
            Assert.Equal(File.ReadAllBytes(Path.Combine(template.RepositoryRoot, f)), File.ReadAllBytes(Path.Combine(root, f)));
        });
    }

    [Fact]
    public void Generated_solution_spells_the_new_name_in_the_form_each_use_needs()
    {
        var root = template.DefaultSolution;
        var files = template.DefaultSolutionFiles;

        // The solution file is renamed, lists every project of the source under its new name and path, with new GUIDs.
        var sourceProjects = SolutionProject().Matches(SourceFile("ServingStack.sln")).ToList();
        var projects = SolutionProject().Matches(DefaultFile(TemplatePackage.DefaultName + ".sln")).ToList();
        Assert.Equal(
            sourceProjects.Select(p => p.Groups["name"].Value.Replace("ServingStack", TemplatePackage.DefaultName, StringComparison.Ordinal)),
            projects.Select(p => p.Groups["name"].Value));
        Assert.All(projects, p => Assert.True(File.Exists(Path.Combine(root, p.Groups["path"].Value.Replace('\\', '/'))), $"{p.Value}: no such project file"));
        Assert.Empty(projects.Select(p => p.Groups["guid"].Value).Intersect(sourceProjects.Select(p => p.Groups["guid"].Value)));

        // Each form of the name where the source has it: identifiers, Aspire's Projects.* classes, meters, instrument
        // names, Prometheus names, environment variables, role names.
        string[] expected =
        [
            "namespace Contoso.Serving.Inference",
            "Projects.Contoso_Serving_Inference",
            "Projects.Contoso_Serving_AppHost",
            "\"Contoso.Serving.Inference\"",
            "\"contoso-serving.requests\"",
            "contoso_serving_requests_total",
            "contoso_serving_modelsync_",
            "CONTOSO_SERVING_UPDATE_MODELS",
            "contoso-serving-admin",
        ];
        var missing = expected.Where(e => GeneratedTree.LinesContaining(root, files, e).Count == 0).ToList();
        Assert.True(missing.Count == 0, $"no file in {root} says: {string.Join(", ", missing)}");
        var misformed = files.Where(f => !GeneratedTree.IsBinary(Path.Combine(root, f)))
            .SelectMany(f => File.ReadLines(Path.Combine(root, f)).Where(l => MisformedName().IsMatch(l)).Select(l => $"{f}: {l.Trim()}"))
            .ToList();
        Assert.True(misformed.Count == 0, $"the name in a form that is wrong where it stands:\n{string.Join('\n', misformed.Take(50))}");

        // The README keeps what a user of the solution needs, not how this repository is a template.
        var readme = DefaultFile("README.md");
        Assert.DoesNotContain("Use as a template", readme, StringComparison.Ordinal);
        Assert.DoesNotContain(".ci/run", readme, StringComparison.Ordinal);
        Assert.DoesNotContain("<!--#", readme, StringComparison.Ordinal);

        // Default options: CPU, the MLP only, a 10% canary, no template directives left.
        var program = DefaultFile("Contoso.Serving.AppHost/Program.cs");
        Assert.DoesNotContain("WithGpu(", program, StringComparison.Ordinal);
        Assert.DoesNotContain("resnet18", program, StringComparison.Ordinal);
        Assert.DoesNotContain("#if", program, StringComparison.Ordinal);
        Assert.Contains("WithSplit(\"mnist\", stable, canary, canaryWeight: 10)", program, StringComparison.Ordinal);
        Assert.DoesNotContain("ResNet18", DefaultFile("Contoso.Serving.AppHost/Contoso.Serving.AppHost.csproj"), StringComparison.Ordinal);

        // What the AppHost publishes: the manifest and the Kubernetes output, where the source has them.
        if (File.Exists(Path.Combine(template.RepositoryRoot, "aspire-manifest.json")))
        {
            Assert.Contains("Contoso.Serving.", DefaultFile("aspire-manifest.json"), StringComparison.Ordinal);
        }

        var sourceK8s = Path.Combine(template.RepositoryRoot, "deploy", "k8s");
        var k8sFiles = Directory.Exists(sourceK8s) ? GeneratedTree.Files(sourceK8s) : [];
        Assert.Equal(k8sFiles.Select(f => Renamed("deploy/k8s/" + f)), files.Where(f => f.StartsWith("deploy/k8s/", StringComparison.Ordinal)));
        if (k8sFiles.Count > 0)
        {
            Assert.Contains(files, f => f.StartsWith("deploy/k8s/", StringComparison.Ordinal) && DefaultFile(f).Contains("contoso-serving", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Generated_solution_builds_without_warnings_and_passes_a_few_of_its_own_tests()
    {
        var root = template.DefaultSolution;
        var build = await DotnetCli.SucceedAsync(root, template.Limit(BuildLimit),
            "build", TemplatePackage.DefaultName + ".sln", "-nologo", "-tl:off", "-v", "minimal", "--disable-build-servers");
        AssertNoWarnings(build);
        output.WriteLine($"build: {build.Elapsed.TotalSeconds:0} s");

        var filter = string.Join('|', GeneratedTestClasses.Select(c => $"FullyQualifiedName~.{c}."));
        var test = await DotnetCli.RunAsync(root, template.Limit(TestLimit),
            "test", $"{TemplatePackage.DefaultName}.Tests/{TemplatePackage.DefaultName}.Tests.csproj", "--no-build", "-nologo",
            "--filter", filter, "--logger", "console;verbosity=normal");
        output.WriteLine($"tests: {test.Elapsed.TotalSeconds:0} s");
        Assert.True(test.ExitCode == 0, $"the generated solution's tests failed:\n{test}");
        var summary = TestSummary().Match(test.Output);
        Assert.True(summary.Success, $"no test summary in the output:\n{test}");
        Assert.True(summary.Groups["passed"].Value == summary.Groups["total"].Value, $"not every test passed (none may skip):\n{test}");
        var passed = PassedTest().Matches(test.Output).Select(m => m.Groups["test"].Value).ToList();
        Assert.All(GeneratedTestClasses, c => Assert.True(
            passed.Any(t => t.StartsWith($"{TemplatePackage.DefaultName}.Tests.", StringComparison.Ordinal) && t.Contains($".{c}.", StringComparison.Ordinal)),
            $"no test of {c} passed:\n{test}"));
    }

    [Fact]
    public async Task Options_change_gpu_canary_weight_model_and_kubernetes_and_the_apphost_builds_and_publishes_them()
    {
        // A name that is not a namespace: dropped characters in code and file names, kept as '-' in Kubernetes names.
        const string name = "acme-vision";
        const string codeName = "acmevision";
        var root = Path.Combine(template.WorkDirectory, name);
        await template.InstantiateAsync(name, root, "--gpu", "--canary-weight", "25", "--model", "resnet18", "--kubernetes", "false");
        var files = GeneratedTree.Files(root);
        string Read(string relative) => File.ReadAllText(Path.Combine(root, relative));

        Assert.Contains($"{codeName}.sln", files);
        Assert.NotEmpty(GeneratedTree.LinesContaining(root, files, "acme-vision-admin"));
        Assert.NotEmpty(GeneratedTree.LinesContaining(root, files, "acme_vision_requests_total"));
        Assert.Empty(GeneratedTree.LinesContaining(root, files, "servingstack"));

        var program = Read($"{codeName}.AppHost/Program.cs");
        Assert.NotEmpty(GeneratedTree.LinesContaining(root, files, $"Projects.{codeName}_Inference"));
        Assert.Equal(2, Regex.Count(program, @"\.WithGpu\(\)"));
        Assert.Contains(".WithModel(\"resnet18\", version: 1, label: \"stable\")", program, StringComparison.Ordinal);
        Assert.Contains(".WithModel(\"resnet18\", version: 2, label: \"canary\")", program, StringComparison.Ordinal);
        Assert.Contains("WithSplit(\"mnist\", stable, canary, canaryWeight: 25)", program, StringComparison.Ordinal);
        Assert.Contains("WithSplit(\"resnet18\", stable, canary, canaryWeight: 25)", program, StringComparison.Ordinal);
        Assert.DoesNotContain("canaryWeight: 10", program, StringComparison.Ordinal);
        Assert.DoesNotContain("#if", program, StringComparison.Ordinal);
        Assert.DoesNotContain("#endif", program, StringComparison.Ordinal);

        var offKubernetes = files.Where(f => f.StartsWith("deploy/", StringComparison.Ordinal) || f.Contains("/Kubernetes/", StringComparison.Ordinal)).ToList();
        Assert.True(offKubernetes.Count == 0, $"--kubernetes false still generated:\n{string.Join('\n', offKubernetes)}");

        // The AppHost compiles with every conditional flipped, and its build puts the ResNet18 demo versions in place.
        var build = await DotnetCli.SucceedAsync(root, template.Limit(BuildLimit),
            "build", $"{codeName}.AppHost/{codeName}.AppHost.csproj", "-nologo", "-tl:off", "-v", "minimal", "--disable-build-servers");
        AssertNoWarnings(build);
        output.WriteLine($"AppHost build: {build.Elapsed.TotalSeconds:0} s");
        var packaged = new FileInfo(PackagedResNet18.Path());
        foreach (var version in new[] { "1", "2" })
        {
            var copied = new FileInfo(Path.Combine(root, "models", "resnet18", version, "model.onnx"));
            Assert.True(copied.Exists && copied.Length == packaged.Length, $"{copied.FullName} is not the packaged ResNet18 ({packaged.FullName}):\n{build}");
        }

        // The committed manifest describes the default options; publishing again, as the README says, builds the graph
        // (which refuses a split of a model a service does not serve) and writes what the options asked for.
        var publish = await DotnetCli.SucceedAsync(root, template.Limit(PublishLimit),
            "run", "--project", $"{codeName}.AppHost", "--no-build", "--", "--publisher", "manifest", "--output-path", "../aspire-manifest.json");
        var manifest = Read("aspire-manifest.json");
        string[] published =
        [
            $"{codeName}.Inference/{codeName}.Inference.csproj",
            "--execution_provider=cuda",
            "\"Gateway__Splits__resnet18__Targets__1__Weight\": \"25\"",
            "\"Gateway__Splits__mnist__Targets__0__Weight\": \"75\"",
        ];
        Assert.All(published, p => Assert.True(manifest.Contains(p, StringComparison.Ordinal), $"the published manifest lacks {p}:\n{manifest}\n{publish}"));
        Assert.DoesNotContain("--execution_provider=cpu", manifest, StringComparison.Ordinal);
        Assert.DoesNotContain("servingstack", manifest, StringComparison.OrdinalIgnoreCase);
    }

    private static void AssertNoWarnings(CliResult build)
    {
        var summary = WarningSummary().Match(build.Output);
        Assert.True(summary.Success && summary.Groups["count"].Value == "0", $"the build warned (or printed no summary):\n{build}");
    }
}
