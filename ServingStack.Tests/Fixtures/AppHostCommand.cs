using System.Diagnostics;

namespace ServingStack.Tests.Fixtures;

/// <summary>Runs the built AppHost with arguments (a publisher or a pipeline step) from the repository root.</summary>
public static class AppHostCommand
{
    /// <summary>Stdout and stderr together; fails the test with them when the AppHost exits non-zero.</summary>
    public static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = BuiltProject.RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(BuiltProject.DllPath("ServingStack.AppHost"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(cts.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"the AppHost ({string.Join(' ', args)}) exited {process.ExitCode}:\n{output}");
        return output;
    }
}
