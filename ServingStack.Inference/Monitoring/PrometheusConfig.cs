namespace ServingStack.Inference.Monitoring;

/// <summary>TF Serving's <c>PrometheusConfig</c> message (tensorflow_serving/config/monitoring_config.proto).</summary>
public sealed class PrometheusConfig
{
    /// <summary>Field 1, <c>enable</c>: serve TF Serving's series.</summary>
    public bool Enable { get; set; }

    /// <summary>Field 2, <c>path</c>: where; empty means <see cref="MonitoringConfig.DefaultPrometheusPath"/>.</summary>
    public string Path { get; set; } = string.Empty;
}
