using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Aspire's service defaults (telemetry, health, service discovery, resilience), with two changes for serving:
/// health endpoints are mapped in every environment because Kubernetes probes run in Production, and console logs are
/// JSON outside Development so a cluster's log collector can parse them.
/// </summary>
public static class Extensions
{
    public const string LivenessTag = "live";
    public const string ReadinessTag = "ready";

    private const string HealthEndpointPath = "/health";
    private const string AlivenessEndpointPath = "/alive";

    /// <summary>Semicolon-separated JSON files layered over all other configuration and reloaded when they change.</summary>
    public const string ConfigFilesVariable = "SERVICE_CONFIG_FILES";

    /// <summary>OpenTelemetry's standard name for the sampler's argument: here the trace-id ratio of new traces.</summary>
    public const string TraceSampleRatioVariable = "OTEL_TRACES_SAMPLER_ARG";

    public const double DefaultTraceSampleRatio = 0.1;

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.AddMountedConfiguration();
        builder.ConfigureLogging();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>
    /// Kubernetes mounts a ConfigMap as files and swaps them when the ConfigMap changes: the files named by
    /// <c>SERVICE_CONFIG_FILES</c> are added last (they win) and reloaded, so, e.g., the gateway's split weights follow
    /// its ConfigMap without a restart. A named file that is missing stops the start: a silent fallback would serve
    /// with the wrong routes. (In a pod, set <c>DOTNET_USE_POLLING_FILE_WATCHER=true</c>: inotify misses the swap.)
    /// </summary>
    public static TBuilder AddMountedConfiguration<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var files = builder.Configuration[ConfigFilesVariable];
        if (string.IsNullOrWhiteSpace(files))
        {
            return builder;
        }

        foreach (var file in files.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: true);
        }

        return builder;
    }

    public static TBuilder ConfigureLogging<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (!builder.Environment.IsDevelopment())
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
        }

        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());

        // Spans cost CPU on every request (a proxy hop pays for two); without an exporter nobody sees them, so no
        // tracer listens at all. Incoming trace context is still forwarded as it came.
        if (HasOtlpExporter(builder.Configuration))
        {
            var ratio = TraceSampleRatio(builder.Configuration, builder.Environment);
            telemetry.WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                // A caller's decision is kept, so a trace is whole or absent across gateway and servers; new traces
                // are sampled by trace id at the ratio.
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)))
                .AddAspNetCoreInstrumentation(o =>
                    // Probes and scrapes would drown the traces that matter.
                    o.Filter = ctx => !IsInfrastructurePath(ctx.Request.Path))
                .AddHttpClientInstrumentation());
        }

        builder.AddOpenTelemetryExporters();
        return builder;
    }

    /// <summary>
    /// The share of new traces (no sampled caller) that are recorded: <c>OTEL_TRACES_SAMPLER_ARG</c> (0 to 1) when set,
    /// else every trace in Development (the dashboard) and 1 in 10 elsewhere.
    /// </summary>
    public static double TraceSampleRatio(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        var configured = configuration[TraceSampleRatioVariable];
        if (string.IsNullOrWhiteSpace(configured))
        {
            return environment.IsDevelopment() ? 1.0 : DefaultTraceSampleRatio;
        }

        if (!double.TryParse(configured, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var ratio)
            || ratio is < 0 or > 1 || double.IsNaN(ratio))
        {
            throw new ConfigurationProblemsException([$"{TraceSampleRatioVariable} must be a number from 0 to 1, not '{configured}'."]);
        }

        return ratio;
    }

    private static bool HasOtlpExporter(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    private static bool IsInfrastructurePath(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath) ||
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/ready") || path.StartsWithSegments("/metrics") ||
        path.StartsWithSegments("/v2/health") || path.StartsWithSegments("/grpc.health.v1.Health");

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        if (HasOtlpExporter(builder.Configuration))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LivenessTag]);
        return builder;
    }

    /// <summary>Maps <c>/health</c> (every check) and <c>/alive</c> (liveness checks) in every environment.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = r => r.Tags.Contains(LivenessTag),
        });
        return app;
    }
}
