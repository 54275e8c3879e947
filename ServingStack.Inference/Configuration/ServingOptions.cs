using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Configuration;

/// <summary>Server-wide settings, section <c>Serving</c>; the tensorflow_model_server flags map onto these.</summary>
public sealed class ServingOptions
{
    public const string SectionName = "Serving";

    /// <summary>TF Serving REST and Open Inference REST (<c>--rest_api_port</c>); 0 picks a free port.</summary>
    public int RestApiPort { get; set; } = 8501;

    /// <summary>gRPC (<c>--port</c>).</summary>
    public int Port { get; set; } = 8500;

    /// <summary>
    /// <c>--grpc_socket_path</c>: also serve gRPC on this Unix domain socket (for a sidecar or a local client that skips
    /// TCP). The server removes the file when it stops.
    /// </summary>
    public string? GrpcSocketPath { get; set; }

    /// <summary>
    /// <c>--ssl_config_file</c>: TF Serving's SSLConfig (text format: <c>server_key</c>, <c>server_cert</c>, <c>custom_ca</c>,
    /// <c>client_verify</c>); the gRPC port then speaks TLS, and with <c>client_verify</c> requires client certificates.
    /// </summary>
    public string? SslConfigFile { get; set; }

    /// <summary>Address to listen on; <c>0.0.0.0</c> or <c>*</c> means every interface (what a container needs).</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>Name of the single model served from <see cref="ModelBasePath"/> (<c>--model_name</c>).</summary>
    public string ModelName { get; set; } = "default";

    /// <summary><c>--model_base_path</c>: serve one model from this folder without a config file.</summary>
    public string? ModelBasePath { get; set; }

    /// <summary><c>--model_config_file</c>: JSON, or TF Serving's text format.</summary>
    public string? ModelConfigFile { get; set; }

    /// <summary>
    /// The section that holds the model config list as configuration keys, TF Serving's field names under an index
    /// (<c>Serving__ModelConfigList__0__name=mnist</c>, <c>..__base_path</c>, <c>..__model_version_policy__specific__versions__0</c>,
    /// <c>..__version_labels__stable</c>): models from the environment alone, with no file to mount. Not reloaded.
    /// </summary>
    public const string ModelConfigListSection = SectionName + ":ModelConfigList";

    /// <summary>Batching parameters as configuration keys (<c>Serving__BatchingParameters__max_batch_size=32</c>), when no file is given.</summary>
    public const string BatchingParametersSection = SectionName + ":BatchingParameters";

    /// <summary>Seconds between scans of the base paths for new or removed versions (<c>--file_system_poll_wait_seconds</c>); 0 scans once.</summary>
    public int FileSystemPollWaitSeconds { get; set; } = 1;

    /// <summary>
    /// <c>poll</c> (default): rescan the base paths every <see cref="FileSystemPollWaitSeconds"/>. <c>explicit</c>: read them at
    /// start and when the repository API loads a model, never in between (Triton's <c>--model-control-mode</c>).
    /// </summary>
    public ModelControlMode ModelControlMode { get; set; } = ModelControlMode.Poll;

    /// <summary>
    /// Key for the repository API (<c>/v2/repository/...</c>), sent as <c>Authorization: Bearer KEY</c> or <c>X-Admin-Key</c>.
    /// Unset: the API is off. Pass it through the environment (<c>Serving__AdminApiKey</c>) or a secret, not a flag.
    /// </summary>
    public string? AdminApiKey { get; set; }

    /// <summary>
    /// On SIGTERM, how long the server keeps serving new requests while reporting not-ready, so load balancers stop
    /// sending before it stops accepting (<c>--drain_delay_seconds</c>).
    /// </summary>
    public int DrainDelaySeconds { get; set; } = 3;

    /// <summary>After the drain delay, the longest wait for queued and in-flight requests before the process exits (<c>--shutdown_grace_seconds</c>).</summary>
    public int ShutdownGraceSeconds { get; set; } = 30;

    /// <summary>Seconds between checks of the model config file for changes (<c>--model_config_file_poll_wait_seconds</c>); 0: never.</summary>
    public int ModelConfigFilePollWaitSeconds { get; set; } = 5;

    /// <summary>Versions loaded at once (<c>--num_load_threads</c>); 0 (tensorflow_model_server's "no pool") loads one at a time.</summary>
    public int NumLoadThreads { get; set; } = 2;

    /// <summary>
    /// How many times a failed load is retried (<c>--max_num_load_retries</c>, tensorflow_model_server's default 5); the
    /// version shows END with the last error in between. After the last retry it stays END until its files change.
    /// </summary>
    public int MaxNumLoadRetries { get; set; } = 5;

    /// <summary>Wait between load retries, in microseconds (<c>--load_retry_interval_micros</c>, default one minute); negative: no wait.</summary>
    public long LoadRetryIntervalMicros { get; set; } = 60_000_000;

    /// <summary>Run one inference on zeros before a version turns AVAILABLE (<c>--enable_model_warmup</c>).</summary>
    public bool EnableModelWarmup { get; set; } = true;

    /// <summary>
    /// How long a REST request may wait for inference before 504 (<c>--rest_api_timeout_in_ms</c>); 0 waits without limit.
    /// A request's <c>X-Request-Timeout-Ms</c> header overrides it.
    /// </summary>
    public int RestApiTimeoutInMs { get; set; } = 30_000;

    /// <summary>
    /// <c>--rest_api_enable_cors_support</c>: REST answers CORS preflights and allows any origin, so a page served from
    /// elsewhere can call the model from the browser.
    /// </summary>
    public bool RestApiEnableCorsSupport { get; set; }

    /// <summary>Largest request body accepted; larger requests get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Batch requests to every model (<c>--enable_batching</c>); a model's <c>batching</c> block can still turn it on or off.</summary>
    public bool EnableBatching { get; set; }

    /// <summary>Default batching parameters (<c>--batching_parameters_file</c>): JSON or TF Serving's text format.</summary>
    public string? BatchingParametersFile { get; set; }

    /// <summary>
    /// <c>--monitoring_config_file</c>: TF Serving's MonitoringConfig in text format; its <c>prometheus_config</c> turns on
    /// TF Serving's own metric series at the configured path. Unset: only our <c>/metrics</c>.
    /// </summary>
    public string? MonitoringConfigFile { get; set; }

    /// <summary>Defaults for every model's ONNX Runtime session; a model's own <c>execution</c> block overrides fields.</summary>
    public ExecutionSettings Execution { get; set; } = new();
}
