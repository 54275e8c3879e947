using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Bench;

/// <summary>A baseline server of the bench tool (<c>serve-echo</c>, <c>serve-ort</c>) running as its own process on a free loopback port.</summary>
internal sealed class BaselineProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private BaselineProcess(Process process, int port)
    {
        _process = process;
        Address = new Uri($"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <c>bench {command} --model-file {modelFile} --port {free}</c> and waits for its "listening" line.</summary>
    public static async Task<BaselineProcess> StartAsync(string command, string modelFile)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { BenchProcess.DllPath, command, "--model-file", modelFile, "--model-name", "mnist", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        var baseline = new BaselineProcess(Process.Start(start)!, port);
        try
        {
            await Eventually.TrueAsync(() => baseline.Output.Contains("listening on", StringComparison.Ordinal) || baseline._process.HasExited, $"{command} to listen", TimeSpan.FromSeconds(60));
            Assert.False(baseline._process.HasExited, $"{command} exited: {baseline.Output}");
            return baseline;
        }
        catch
        {
            await baseline.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
