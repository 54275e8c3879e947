namespace ServingStack.Tests.Fixtures;

/// <summary>Where a project of the solution was built, in the same configuration and framework as these tests.</summary>
public static class BuiltProject
{
    /// <summary>{root}/{project}/bin/{Configuration}/{framework}/{project}.dll, failing clearly when it is missing.</summary>
    public static string DllPath(string project)
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var path = Path.Combine(RepositoryRoot(), project, "bin", configuration, framework, project + ".dll");
        Assert.True(File.Exists(path), $"{path} is missing; build {project} ({configuration}) first.");
        return path;
    }

    /// <summary>The folder holding ServingStack.sln, above the test output.</summary>
    public static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ServingStack.sln")))
        {
            root = root.Parent;
        }

        Assert.True(root is not null, $"No ServingStack.sln above {AppContext.BaseDirectory}.");
        return root!.FullName;
    }
}
