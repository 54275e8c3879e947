using System.Diagnostics;
using ServingStack.Tests.Inference;

namespace ServingStack.Tests.Template;

/// <summary>
/// The repository packed as ServingStack.Templates.*.nupkg (templates/ServingStack.Templates.csproj), installed into a
/// template cache of its own (<c>--debug:custom-hive</c>, so the user's templates are neither read nor changed), and
/// instantiated once with the default options as <see cref="DefaultName"/>.
/// </summary>
public sealed class TemplatePackage : IAsyncLifetime
{
    public const string DefaultName = "Contoso.Serving";

    /// <summary>
    /// Everything the template tests run, together (about 5 minutes on 2 busy cores): a stuck step fails with its output
    /// well inside CI's limit instead of holding the run.
    /// </summary>
    public static readonly TimeSpan Budget = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan PackLimit = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan NewLimit = TimeSpan.FromMinutes(2);

    private readonly Stopwatch _budgetClock = Stopwatch.StartNew();

    public string RepositoryRoot { get; } = DemoRepositoryTests.RepositoryRoot();

    /// <summary>Everything this fixture writes: the package, the template cache, the generated solutions.</summary>
    public string WorkDirectory { get; } = Path.Combine(Path.GetTempPath(), "servingstack-template-tests", Guid.NewGuid().ToString("N"));

    public string PackagePath { get; private set; } = "";

    /// <summary>The solution generated with <c>-n Contoso.Serving</c> and default options.</summary>
    public string DefaultSolution => Path.Combine(WorkDirectory, "contoso-serving");

    /// <summary>The default solution's files, relative, listed before anything builds in it.</summary>
    public IReadOnlyList<string> DefaultSolutionFiles { get; private set; } = [];

    /// <summary>How long packing, installing and instantiating took.</summary>
    public TimeSpan SetupTime { get; private set; }

    private string Hive => Path.Combine(WorkDirectory, "hive");

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        Directory.CreateDirectory(WorkDirectory);
        var packages = Path.Combine(WorkDirectory, "packages");
        await DotnetCli.SucceedAsync(RepositoryRoot, Limit(PackLimit),
            "pack", Path.Combine("templates", "ServingStack.Templates.csproj"), "-o", packages, "-nologo", "-tl:off", "--disable-build-servers");
        var packed = Directory.GetFiles(packages, "ServingStack.Templates.*.nupkg");
        Assert.True(packed.Length == 1, $"dotnet pack wrote {packed.Length} ServingStack.Templates.*.nupkg files to {packages}: {string.Join(", ", Directory.GetFiles(packages))}");
        PackagePath = packed[0];

        var install = await DotnetCli.SucceedAsync(WorkDirectory, Limit(NewLimit), "new", "install", PackagePath, "--debug:custom-hive", Hive);
        Assert.True(install.Output.Contains("servingstack", StringComparison.Ordinal), $"the package installed no 'servingstack' template:\n{install}");

        await InstantiateAsync(DefaultName, DefaultSolution);
        DefaultSolutionFiles = GeneratedTree.Files(DefaultSolution);
        SetupTime = clock.Elapsed;
    }

    /// <summary><c>dotnet new servingstack -n {name} -o {output} {options}</c> from this fixture's template cache.</summary>
    public Task<CliResult> InstantiateAsync(string name, string output, params string[] options) =>
        DotnetCli.SucceedAsync(WorkDirectory, Limit(NewLimit),
            ["new", "servingstack", "-n", name, "-o", output, "--no-update-check", "--debug:custom-hive", Hive, .. options]);

    /// <summary>The time a step may take: <paramref name="cap"/>, or what is left of <see cref="Budget"/> if less.</summary>
    public TimeSpan Limit(TimeSpan cap)
    {
        var left = Budget - _budgetClock.Elapsed;
        Assert.True(left > TimeSpan.FromSeconds(10),
            $"the template tests' {Budget.TotalMinutes:0}-minute budget is spent ({_budgetClock.Elapsed.TotalMinutes:0.0} min so far)");
        return left < cap ? left : cap;
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A process the generated tests started may still hold a file; the folder is under the temp folder.
        }
        catch (UnauthorizedAccessException)
        {
        }

        return Task.CompletedTask;
    }
}
