using System.Net.Http.Headers;
using ServingStack.Tests.Fixtures;
using Xunit.Abstractions;

namespace ServingStack.Tests.Inference.Repository;

/// <summary>TF Serving's known pain: memory that grows with every reload. Sessions must be released on unload.</summary>
public sealed class ReloadMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const string AdminKey = "memory-test-admin-key-01234";
    private const int Cycles = 50;
    private const int WarmCycles = 5;
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Fifty_unload_load_cycles_of_ResNet18_grow_resident_memory_by_at_most_10_percent()
    {
        var original = PackagedResNet18.Path();
        ResNet18Model.WriteDynamicBatch(original, Path.Combine(_repo.ModelPath("resnet18"), "1", "model.onnx"));
        // Workstation GC: server GC grows the managed heap lazily with the machine's load, which is noise here; what
        // must not grow is the native memory each load takes.
        await using var server = await ServerProcess.StartAsync(
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" },
            "--model_name=resnet18", $"--model_base_path={_repo.ModelPath("resnet18")}", "--model_control_mode=explicit",
            $"--Serving:AdminApiKey={AdminKey}", "--drain_delay_seconds=0");
        server.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);

        var samples = new List<long>();
        for (var cycle = 1; cycle <= Cycles; cycle++)
        {
            using (var unload = await server.Client.PostAsync("/v2/repository/models/resnet18/unload", null))
            {
                Assert.True(unload.IsSuccessStatusCode, await unload.Content.ReadAsStringAsync());
            }

            await Eventually.TrueAsync(async () => (await Json.GetAsync(server.Client, "/v1/models/resnet18")).Text.Contains("\"END\"", StringComparison.Ordinal), "the unload");
            using (var load = await server.Client.PostAsync("/v2/repository/models/resnet18/load", null))
            {
                Assert.True(load.IsSuccessStatusCode, await load.Content.ReadAsStringAsync());
            }

            samples.Add(server.ResidentBytes());
        }

        // Medians of ten cycles each: one sample swings with whatever the last load left in flight.
        static double Median(IEnumerable<long> values) => values.Order().Skip(4).Take(2).Average();
        var early = Median(samples.Skip(WarmCycles).Take(10));
        var late = Median(samples.TakeLast(10));
        var growth = (late - early) / early;
        output.WriteLine($"median RSS, cycles {WarmCycles + 1}-{WarmCycles + 10}: {early / 1048576.0:F1} MiB; cycles {Cycles - 9}-{Cycles}: {late / 1048576.0:F1} MiB; " +
            $"growth {growth:P1}; samples (MiB): {string.Join(", ", samples.Select(v => (v / 1048576.0).ToString("F0")))}");
        Assert.True(growth <= 0.10, $"resident memory grew {growth:P1} ({early:F0} → {late:F0} bytes)");
    }
}
