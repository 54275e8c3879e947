using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.ServiceDefaults;

/// <summary>SERVICE_CONFIG_FILES: a mounted ConfigMap's JSON wins over other sources and is re-read when it changes.</summary>
public sealed class MountedConfigurationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mounted-config-").FullName;

    [Fact]
    public async Task Mounted_json_file_overrides_other_sources_and_reloads_when_replaced()
    {
        var file = Path.Combine(_folder, "gateway.json");
        await File.WriteAllTextAsync(file, """{ "Gateway": { "Splits": { "mnist": { "Targets": [ { "Weight": 90 } ] } } } }""");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Gateway:Splits:mnist:Targets:0:Weight"] = "50",
            [Extensions.ConfigFilesVariable] = file,
        });
        builder.AddMountedConfiguration();
        using var host = builder.Build();
        var configuration = host.Services.GetRequiredService<IConfiguration>();
        Assert.Equal("90", configuration["Gateway:Splits:mnist:Targets:0:Weight"]);

        // Replaced whole, as the kubelet swaps a ConfigMap's files.
        var next = Path.Combine(_folder, "next.json");
        await File.WriteAllTextAsync(next, """{ "Gateway": { "Splits": { "mnist": { "Targets": [ { "Weight": 75 } ] } } } }""");
        File.Move(next, file, overwrite: true);
        await Eventually.TrueAsync(() => configuration["Gateway:Splits:mnist:Targets:0:Weight"] == "75", "the mounted file reloaded", TimeSpan.FromSeconds(20));
    }

    [Fact]
    public void Missing_mounted_file_stops_the_start_with_its_path()
    {
        var missing = Path.Combine(_folder, "absent.json");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [Extensions.ConfigFilesVariable] = missing });
        var error = Assert.Throws<FileNotFoundException>(() => builder.AddMountedConfiguration());
        Assert.Contains("absent.json", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
