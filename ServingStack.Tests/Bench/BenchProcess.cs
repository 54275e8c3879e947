using System.Diagnostics;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Bench;

/// <summary>Runs the built ServingStack.Bench.dll as a child process and captures its output.</summary>
internal static class BenchProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public sealed record Result(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:0.0} s\n--- stdout ---\n{StdOut}\n--- stderr ---\n{StdErr}";
    }

    /// <summary>
    /// ServingStack.Bench/bin/{Configuration}/net10.0/ServingStack.Bench.dll, the Configuration being the one these
    /// tests were built in (the ProjectReference builds it alongside).
    /// </summary>
    public static string DllPath => BuiltProject.DllPath("ServingStack.Bench");

    public static async Task<Result> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var stopwatch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"ServingStack.Bench {string.Join(' ', args)} ran past {Timeout.TotalSeconds} s.\n{await stdout}\n{await stderr}");
        }

        return new Result(process.ExitCode, await stdout, await stderr, stopwatch.Elapsed);
    }
}
