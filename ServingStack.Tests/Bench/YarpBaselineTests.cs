using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Bench;

/// <summary><c>bench serve-yarp</c>: the bare YARP host the gateway benchmark compares against.</summary>
public sealed class YarpBaselineTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task An_upstream_that_is_not_loopback_is_refused_with_exit_code_2()
    {
        var result = await BenchProcess.RunAsync("serve-yarp", "--upstream", "http://10.1.2.3:8501", "--port", "1");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("10.1.2.3", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("loopback", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task It_forwards_requests_to_its_one_upstream_and_answers_as_the_server_does()
    {
        _repo.AddVersion("mnist", 1, ModelFactory.CreateMlp(MlpWeights.Create(42)));
        var config = _repo.WriteConfig("models.json", """{ "model_config_list": [ { "name": "mnist", "base_path": "mnist" } ] }""");
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var port = FreePort();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { BenchProcess.DllPath, "serve-yarp", "--upstream", server.Address.ToString().TrimEnd('/'), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await Eventually.TrueAsync(async () =>
            {
                try
                {
                    using var ready = await client.GetAsync("/v2/models/mnist/ready");
                    return ready.StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, "serve-yarp forwarded the readiness probe", TimeSpan.FromSeconds(60));

            var proxied = await client.GetStringAsync("/v2/models/mnist");
            var direct = await server.Client.GetStringAsync("/v2/models/mnist");
            Assert.Equal(direct, proxied);
            using var missing = await client.GetAsync("/v2/models/absent");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("absent", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
