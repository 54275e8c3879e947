using System.Diagnostics;

namespace ServingStack.Tests.Fixtures;

/// <summary>
/// Prometheus's own checker. Installed from Debian's <c>prometheus</c> package when missing (CI runs as root), so a
/// fresh machine needs nothing by hand; a test that cannot get it fails rather than skips.
/// </summary>
public static class PromTool
{
    private static readonly SemaphoreSlim s_install = new(1, 1);

    public static async Task<string> LocateAsync()
    {
        var found = Find();
        if (found is not null)
        {
            return found;
        }

        await s_install.WaitAsync();
        try
        {
            found = Find();
            if (found is null)
            {
                await RunAsync("apt-get", "update -qq");
                await RunAsync("apt-get", "install -y -qq --no-install-recommends prometheus");
                found = Find();
            }
        }
        finally
        {
            s_install.Release();
        }

        return found ?? throw new InvalidOperationException(
            "promtool is not installed and could not be installed; run: apt-get install -y --no-install-recommends prometheus");
    }

    /// <summary>Runs <c>promtool check metrics</c> on <paramref name="text"/>; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> CheckMetricsAsync(string text)
    {
        var promtool = await LocateAsync();
        using var process = Process.Start(new ProcessStartInfo(promtool, "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string? Find()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, "promtool");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static async Task RunAsync(string file, string arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            await process.StandardOutput.ReadToEndAsync();
            await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No apt-get here: the caller reports that promtool is missing.
        }
    }
}
