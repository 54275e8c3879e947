using System.Diagnostics;
using System.Text;

namespace ServingStack.Tests.Template;

/// <summary>One finished <c>dotnet</c> command: what ran, how it ended, and everything it printed.</summary>
public sealed record CliResult(string Command, int ExitCode, string Output, TimeSpan Elapsed)
{
    private const int MaxShownChars = 24_000;

    /// <summary>The command, its exit code and its output (the last 24,000 characters), for assertion messages.</summary>
    public override string ToString()
    {
        var shown = Output.Length <= MaxShownChars ? Output : "[...]\n" + Output[^MaxShownChars..];
        return $"$ {Command}\nexit {ExitCode} after {Elapsed.TotalSeconds:0} s\n{shown}";
    }
}

/// <summary>
/// Runs the SDK as a child process, the way a user types the command: no build servers or reused MSBuild nodes that
/// could outlive it, nothing inherited from the test host's own MSBuild or VSTest environment, and a hard time limit.
/// </summary>
public static class DotnetCli
{
    private static readonly TimeSpan OutputDrainLimit = TimeSpan.FromSeconds(10);

    public static string DotnetPath =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    public static async Task<CliResult> RunAsync(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(DotnetPath)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        ConfigureEnvironment(start.Environment);
        var command = "dotnet " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));

        var output = new StringBuilder();
        var stdoutClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderrClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data, stdoutClosed);
        process.ErrorDataReceived += (_, e) => Append(e.Data, stderrClosed);
        process.Exited += (_, _) => exited.TrySetResult();

        var clock = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var timedOut = false;
        try
        {
            await exited.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            timedOut = true;
            process.Kill(entireProcessTree: true);
            await exited.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        // The pipes close when the last process holding them exits. The command itself has exited; a grandchild that
        // inherited them (a test host's child, say) must not hold the test, so the output gets a bounded drain.
        try
        {
            await Task.WhenAll(stdoutClosed.Task, stderrClosed.Task).WaitAsync(OutputDrainLimit);
        }
        catch (TimeoutException)
        {
            Append($"[output still open {OutputDrainLimit.TotalSeconds:0} s after the process exited; shown as far as read]", null);
        }

        string text;
        lock (output)
        {
            text = output.ToString();
        }

        var result = new CliResult(command, timedOut ? -1 : process.ExitCode, text, clock.Elapsed);
        Assert.False(timedOut, $"ran past its {timeout.TotalSeconds:0} s limit and was killed:\n{result}");
        return result;

        void Append(string? line, TaskCompletionSource? closed)
        {
            if (line is null)
            {
                closed?.TrySetResult();
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    /// <summary>Runs the command and fails the test, with the command's output, unless it exits 0.</summary>
    public static async Task<CliResult> SucceedAsync(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var result = await RunAsync(workingDirectory, timeout, args);
        Assert.True(result.ExitCode == 0, $"failed:\n{result}");
        return result;
    }

    private static void ConfigureEnvironment(IDictionary<string, string?> environment)
    {
        // dotnet test sets these for its own build and test host; a nested SDK must start from a clean slate.
        foreach (var key in environment.Keys.Where(k =>
                     k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) ||
                     k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) ||
                     k.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            environment.Remove(key);
        }

        environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        environment["DOTNET_NOLOGO"] = "1";
        environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        environment["DOTNET_GENERATE_ASPNET_CERTIFICATE"] = "false";
        environment["DOTNET_CLI_DO_NOT_USE_MSBUILD_SERVER"] = "1";
        environment["MSBUILDDISABLENODEREUSE"] = "1";
        environment["UseSharedCompilation"] = "false";
    }
}
