using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Trace;

namespace ServingStack.Tests.ServiceDefaults;

/// <summary>Tracing is set up only with an exporter, at a parent-based ratio from <c>OTEL_TRACES_SAMPLER_ARG</c>.</summary>
public sealed class TracingDefaultsTests
{
    [Fact]
    public void Without_an_otlp_endpoint_no_tracer_provider_is_registered()
    {
        using var host = Build(new Dictionary<string, string?>());
        Assert.Null(host.Services.GetService<TracerProvider>());
    }

    [Theory]
    [InlineData("0", false)]
    [InlineData("1", true)]
    public void With_an_otlp_endpoint_new_traces_follow_the_ratio_and_child_spans_their_parent(string ratio, bool rootsRecorded)
    {
        var name = "tracing-defaults-" + Guid.NewGuid().ToString("N");
        using var host = Build(new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317",
            [Extensions.TraceSampleRatioVariable] = ratio,
        }, name);
        Assert.NotNull(host.Services.GetService<TracerProvider>());
        using var source = new ActivitySource(name);

        using (var root = source.StartActivity("root"))
        {
            Assert.Equal(rootsRecorded, root?.Recorded ?? false);
        }

        var sampledParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        using (var child = source.StartActivity("child", ActivityKind.Server, sampledParent))
        {
            Assert.True(child?.Recorded);
        }

        var unsampledParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.None, isRemote: true);
        using (var child = source.StartActivity("child", ActivityKind.Server, unsampledParent))
        {
            Assert.False(child?.Recorded ?? false);
        }
    }

    [Theory]
    [InlineData(null, "Production", 0.1)]
    [InlineData(null, "Development", 1.0)]
    [InlineData("0", "Development", 0.0)]
    [InlineData("0.5", "Production", 0.5)]
    public void The_ratio_comes_from_the_variable_else_from_the_environment(string? configured, string environment, double expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [Extensions.TraceSampleRatioVariable] = configured }).Build();
        Assert.Equal(expected, Extensions.TraceSampleRatio(configuration, new Environment(environment)));
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("often")]
    public void A_ratio_outside_zero_to_one_is_refused_naming_the_variable(string configured)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [Extensions.TraceSampleRatioVariable] = configured }).Build();
        var error = Assert.Throws<ConfigurationProblemsException>(() => Extensions.TraceSampleRatio(configuration, new Environment("Production")));
        Assert.Contains(Extensions.TraceSampleRatioVariable, error.Message, StringComparison.Ordinal);
        Assert.Contains(configured, error.Message, StringComparison.Ordinal);
    }

    private static IHost Build(Dictionary<string, string?> settings, string applicationName = "tracing-defaults")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", ApplicationName = applicationName, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.ConfigureOpenTelemetry();
        return builder.Build();
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "tests";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
