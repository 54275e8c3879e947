using System.Net;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Health;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Protocols.OpenInference;
using ServingStack.Inference.Protocols.TfServing;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Hosting;

public static class InferenceServerExtensions
{
    /// <summary>Options, model repository, runtime, health and Kestrel's REST listener.</summary>
    public static WebApplicationBuilder AddInferenceServer(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServingOptions>, ServingOptionsValidator>();
        services.AddSingleton<IConfigureOptions<ModelServerConfig>, ModelServerConfigSetup>();
        services.AddOptions<ModelServerConfig>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelServerConfig>, ModelServerConfigValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ServingMetrics>();
        services.AddSingleton<OnnxSessionFactory>();
        services.AddSingleton<ModelVersionLoader>();
        services.AddSingleton<ModelManager>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelManager>());

        // Our meter joins the service defaults' OTLP export and is also scraped as Prometheus text at /metrics.
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServingMetrics.MeterName)
            .AddPrometheusExporter());

        services.AddHealthChecks().AddCheck<ModelsReadyHealthCheck>("models", tags: [Extensions.ReadinessTag]);

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = context.Configuration.GetSection(ServingOptions.SectionName).Get<ServingOptions>() ?? new ServingOptions();
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            var address = options.ListenAddress is "*" or "0.0.0.0" or "::" || !IPAddress.TryParse(options.ListenAddress, out var parsed)
                ? null
                : parsed;
            if (address is null)
            {
                kestrel.ListenAnyIP(options.RestApiPort);
            }
            else
            {
                kestrel.Listen(address, options.RestApiPort);
            }
        });

        return builder;
    }

    /// <summary>TF Serving REST, Open Inference REST and the seed's probes (<c>/healthz</c>, <c>/ready</c>).</summary>
    public static WebApplication MapInferenceServer(this WebApplication app)
    {
        app.UseExceptionHandler(errors => errors.Run(context =>
        {
            // The protocols' error shape even for our own bugs; never a stack trace to the client.
            var feature = context.Features.Get<IExceptionHandlerFeature>();
            return ProtocolResults.WriteErrorAsync(context, new ServingError(ServingErrorCode.Internal,
                $"internal error: {feature?.Error.GetType().Name ?? "unknown"}"));
        }));

        app.MapHealthChecks("/healthz", new() { Predicate = r => r.Tags.Contains(Extensions.LivenessTag) });
        app.MapHealthChecks("/ready", new() { Predicate = r => r.Tags.Contains(Extensions.ReadinessTag) });
        app.MapPrometheusScrapingEndpoint();
        app.MapTfServingApi();
        app.MapOpenInferenceApi();
        return app;
    }
}
