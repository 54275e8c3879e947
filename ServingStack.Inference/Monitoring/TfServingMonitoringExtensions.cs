using Microsoft.Extensions.Options;
using ServingStack.Inference.Metrics;

namespace ServingStack.Inference.Monitoring;

/// <summary>
/// TF Serving's monitoring endpoint: <c>--monitoring_config_file</c> with <c>prometheus_config { enable: true }</c>
/// serves TF Serving's series (<see cref="TfServingMetrics"/>) at its path, beside our own <c>/metrics</c>.
/// </summary>
public static class TfServingMonitoringExtensions
{
    /// <summary>Prometheus text format, which tensorflow_model_server sends as plain text.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static TBuilder AddTfServingMonitoring<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton<IConfigureOptions<MonitoringConfig>, MonitoringConfigSetup>();
        builder.Services.AddSingleton<IValidateOptions<MonitoringConfig>, MonitoringConfigValidator>();
        builder.Services.AddOptions<MonitoringConfig>().ValidateOnStart();
        return builder;
    }

    /// <summary>
    /// When monitoring is on, maps its path and starts recording TF Serving's series; otherwise nothing is mapped (the
    /// path answers 404) and nothing is recorded.
    /// </summary>
    public static WebApplication MapTfServingMonitoring(this WebApplication app)
    {
        MonitoringConfig config;
        try
        {
            config = app.Services.GetRequiredService<IOptions<MonitoringConfig>>().Value;
        }
        catch (OptionsValidationException)
        {
            // The host's start validation reports every problem and stops the start; nothing to map until then.
            return app;
        }

        if (!config.PrometheusConfig.Enable)
        {
            return app;
        }

        var tfServing = new TfServingMetrics();
        app.Services.GetRequiredService<ServingMetrics>().EnableTfServing(tfServing);
        app.MapGet(config.EffectivePath, (HttpContext context) =>
        {
            context.Response.ContentType = ContentType;
            return context.Response.WriteAsync(tfServing.Scrape(), context.RequestAborted);
        }).WithName("TfServingMonitoring");
        return app;
    }
}
