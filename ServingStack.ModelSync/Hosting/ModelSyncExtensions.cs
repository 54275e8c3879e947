using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using ServingStack.ModelSync.Configuration;
using ServingStack.ModelSync.Health;
using ServingStack.ModelSync.Metrics;
using ServingStack.ModelSync.Sources;
using ServingStack.ModelSync.Sync;

namespace ServingStack.ModelSync.Hosting;

public static class ModelSyncExtensions
{
    public const string HealthCheckName = "last-sync";

    /// <summary>Options (validated at start), the source, the syncer, the polling worker, metrics and the readiness check.</summary>
    public static WebApplicationBuilder AddModelSync(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ModelSyncOptions>().BindConfiguration(ModelSyncOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelSyncOptions>, ModelSyncOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IModelSource>(ModelSourceFactory.Create);
        services.AddSingleton<ModelSyncMetrics>();
        services.AddSingleton<SyncState>();
        services.AddSingleton<ModelSyncer>();
        services.AddHostedService<SyncWorker>();

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ModelSyncMetrics.MeterName)
            .AddPrometheusExporter());
        services.AddHealthChecks().AddCheck<LastSyncHealthCheck>(HealthCheckName, tags: [Extensions.ReadinessTag]);
        return builder;
    }

    /// <summary>Prometheus text at <c>/metrics</c>, and <c>/ready</c> (the readiness checks) beside the defaults' <c>/health</c> and <c>/alive</c>.</summary>
    public static WebApplication MapModelSync(this WebApplication app)
    {
        app.MapHealthChecks("/ready", new() { Predicate = r => r.Tags.Contains(Extensions.ReadinessTag) });
        app.MapPrometheusScrapingEndpoint();
        return app;
    }
}
