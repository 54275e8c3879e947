using System.Diagnostics;
using System.Text;

namespace ServingStack.Tests.Fixtures;

/// <summary>One of the solution's built services run to its exit (a refused start, <c>--help</c>, <c>--version</c>).</summary>
public sealed class ProcessRun
{
    private ProcessRun(int exitCode, string stdOut, string stdErr)
    {
        ExitCode = exitCode;
        StdOut = stdOut;
        StdErr = stdErr;
    }

    public int ExitCode { get; }

    public string StdOut { get; }

    public string StdErr { get; }

    /// <summary>Runs <c>dotnet {project}.dll args</c> and waits for it to exit; a process still running after <paramref name="timeout"/> fails the test.</summary>
    public static async Task<ProcessRun> RunAsync(string project, IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(BuiltProject.DllPath(project));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = new Process { StartInfo = start };
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{project} {string.Join(' ', args)} still ran after {timeout.TotalSeconds:F0} s; stdout: {stdout} stderr: {stderr}");
        }

        // The asynchronous readers finish with the process's last line only after WaitForExit without a timeout.
        process.WaitForExit();
        lock (stdout)
        {
            lock (stderr)
            {
                return new ProcessRun(process.ExitCode, stdout.ToString(), stderr.ToString());
            }
        }
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }

    public override string ToString() => $"exit {ExitCode}{Environment.NewLine}stdout:{Environment.NewLine}{StdOut}stderr:{Environment.NewLine}{StdErr}";
}
