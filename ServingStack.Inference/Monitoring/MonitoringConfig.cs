namespace ServingStack.Inference.Monitoring;

/// <summary>
/// TF Serving's <c>MonitoringConfig</c>, read from <c>--monitoring_config_file</c> (protobuf text format). Unset file:
/// monitoring is off, as in tensorflow_model_server.
/// </summary>
public sealed class MonitoringConfig
{
    /// <summary>tensorflow_model_server's path when <c>prometheus_config.path</c> is empty.</summary>
    public const string DefaultPrometheusPath = "/monitoring/prometheus/metrics";

    /// <summary>Field 1, <c>prometheus_config</c>.</summary>
    public PrometheusConfig PrometheusConfig { get; } = new();

    /// <summary>The file it was read from; null when no file was given.</summary>
    public string? Source { get; set; }

    /// <summary>Problems found while reading the file (unreadable, syntax, unknown field, wrong type).</summary>
    public List<string> ReadErrors { get; } = [];

    /// <summary>Where the series are served when enabled.</summary>
    public string EffectivePath => string.IsNullOrEmpty(PrometheusConfig.Path) ? DefaultPrometheusPath : PrometheusConfig.Path;
}
