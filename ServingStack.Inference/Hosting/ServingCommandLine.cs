using System.Globalization;
using System.Text;

namespace ServingStack.Inference.Hosting;

/// <summary>
/// tensorflow_model_server's command line, read the way its flag parser reads it: <c>--name=value</c>, and for booleans
/// also a bare <c>--name</c>; booleans take <c>true</c>/<c>false</c> in any case or <c>1</c>/<c>0</c>. Like
/// tensorflow_model_server, a value is never taken from the next argument (<c>--port 9000</c> is an error that shows
/// the right spelling). Every flag of tensorflow_model_server is known: those with a meaning for an ONNX Runtime
/// server set configuration keys, the others are accepted with one warning each. Anything unknown stops the start.
/// Besides these, <c>--Section:Key=value</c> sets any configuration key and <c>--environment=NAME</c> the .NET
/// environment.
/// </summary>
public static class ServingCommandLine
{
    public const string ProgramName = "ServingStack.Inference";

    private const string HostEnvironmentFlag = "environment";

    // Each reason completes "--flag has no effect here: ...".
    private static readonly ServingFlag[] s_flags =
    [
        // tensorflow_model_server's flags with a meaning here (names, types and semantics as tensorflow_model_server's).
        Honoured("port", FlagValueKind.Int32, "Serving:Port", "8500", "gRPC port (Open Inference gRPC, gRPC health and reflection), plain-text HTTP/2; 0 picks a free port"),
        Honoured("grpc_socket_path", FlagValueKind.String, "Serving:GrpcSocketPath", "\"\"", "also serve gRPC on this Unix domain socket (a path relative to the working directory, or absolute)"),
        Honoured("ssl_config_file", FlagValueKind.String, "Serving:SslConfigFile", "\"\"", "TLS on the gRPC port from TF Serving's SSLConfig (server_key, server_cert, custom_ca, client_verify)"),
        Honoured("rest_api_port", FlagValueKind.Int32, "Serving:RestApiPort", "8501", "REST port (TF Serving and Open Inference REST); 0 picks a free port"),
        Honoured("rest_api_timeout_in_ms", FlagValueKind.Int32, "Serving:RestApiTimeoutInMs", "30000", "how long a REST request may wait for inference before 504 (0: no limit)"),
        Honoured("rest_api_enable_cors_support", FlagValueKind.Bool, "Serving:RestApiEnableCorsSupport", "false", "answer CORS preflights and add CORS headers (any origin) to REST responses"),
        Honoured("enable_batching", FlagValueKind.Bool, "Serving:EnableBatching", "false", "batch requests to every model"),
        Honoured("batching_parameters_file", FlagValueKind.String, "Serving:BatchingParametersFile", "\"\"", "default batching parameters (TF Serving's BatchingParameters text format, or JSON)"),
        Honoured("model_config_file", FlagValueKind.String, "Serving:ModelConfigFile", "\"\"", "serve the models listed in this ModelServerConfig file (text format or JSON)"),
        Honoured("model_config_file_poll_wait_seconds", FlagValueKind.Int32, "Serving:ModelConfigFilePollWaitSeconds", "5", "seconds between checks of --model_config_file for changes (0: read once)"),
        Honoured("model_name", FlagValueKind.String, "Serving:ModelName", "\"default\"", "name of the model served from --model_base_path"),
        Honoured("model_base_path", FlagValueKind.String, "Serving:ModelBasePath", "\"\"", "serve one model from this folder of numeric version folders"),
        Honoured("num_load_threads", FlagValueKind.Int32, "Serving:NumLoadThreads", "2", "versions loaded at once, off the request path (0: one at a time)"),
        Honoured("max_num_load_retries", FlagValueKind.Int32, "Serving:MaxNumLoadRetries", "5", "times a failed load is retried before giving up until the version's files change (0: no retry)"),
        Honoured("load_retry_interval_micros", FlagValueKind.Int64, "Serving:LoadRetryIntervalMicros", "60000000", "wait between load retries, in microseconds (negative: no wait)"),
        Honoured("file_system_poll_wait_seconds", FlagValueKind.Int32, "Serving:FileSystemPollWaitSeconds", "1", "seconds between scans of the base paths for new and removed versions (0: scan once)"),
        Honoured("tensorflow_session_parallelism", FlagValueKind.Int64, null, "0", "ONNX Runtime intra-op and inter-op threads both (0: ONNX Runtime chooses); the two flags below take precedence"),
        Honoured("tensorflow_intra_op_parallelism", FlagValueKind.Int64, "Serving:Execution:IntraOpThreads", "0", "ONNX Runtime threads inside one operator (0: ONNX Runtime's default, capped to a container's CPU limit)"),
        Honoured("tensorflow_inter_op_parallelism", FlagValueKind.Int64, "Serving:Execution:InterOpThreads", "0", "ONNX Runtime threads across independent operators (0: sequential execution)"),
        Honoured("enable_model_warmup", FlagValueKind.Bool, "Serving:EnableModelWarmup", "true", "run one inference on zeros before a version is AVAILABLE, so its first request is not slow"),
        Honoured("monitoring_config_file", FlagValueKind.String, "Serving:MonitoringConfigFile", "\"\"", "TF Serving's MonitoringConfig (text format): TF Serving's own metric series at its prometheus_config path"),
        Honoured("version", FlagValueKind.Bool, null, "false", "print the version and exit"),
        Honoured("help", FlagValueKind.Bool, null, "false", "print this text and exit"),

        // ServingStack's own.
        Ours("listen_address", FlagValueKind.String, "Serving:ListenAddress", "\"0.0.0.0\"", "address to listen on (0.0.0.0, * or :: for every interface)"),
        Ours("model_control_mode", FlagValueKind.String, "Serving:ModelControlMode", "\"poll\"", "poll: rescan the base paths; explicit: read them at start and on the repository API's load only"),
        Ours("drain_delay_seconds", FlagValueKind.Int32, "Serving:DrainDelaySeconds", "3", "on SIGTERM, keep serving (not ready, every response asking its client to reconnect) this long"),
        Ours("shutdown_grace_seconds", FlagValueKind.Int32, "Serving:ShutdownGraceSeconds", "30", "then wait this long at most for queued and in-flight requests"),
        Ours("max_request_body_bytes", FlagValueKind.Int64, "Serving:MaxRequestBodyBytes", "67108864", "larger request bodies get 413"),
        Ours("execution_provider", FlagValueKind.String, "Serving:Execution:Provider", "\"cpu\"", "default ONNX Runtime execution provider: cpu or cuda"),
        Ours("device_id", FlagValueKind.Int32, "Serving:Execution:DeviceId", "0", "CUDA device"),
        Ours("allow_spinning", FlagValueKind.Bool, "Serving:Execution:AllowSpinning", "false", "let ONNX Runtime's idle threads spin"),

        // tensorflow_model_server's flags with nothing to act on here.
        Ignored("rest_api_num_threads", FlagValueKind.Int32, "0", "REST requests run on the .NET thread pool, which sizes itself"),
        Ignored("allow_version_labels_for_unavailable_models", FlagValueKind.Bool, "false", "a label may always name a version that is not loaded yet; it answers once that version is AVAILABLE"),
        Ignored("enable_per_model_batching_parameters", FlagValueKind.Bool, "false", "per-model batching parameters are the model's batching block in --model_config_file"),
        Ignored("num_unload_threads", FlagValueKind.Int32, "0", "a retired version unloads on the thread that finishes its last request"),
        Ignored("flush_filesystem_caches", FlagValueKind.Bool, "true", "ONNX Runtime reads a model file once, at load; there is no file-system cache to flush"),
        Ignored("tensorflow_session_config_file", FlagValueKind.String, "\"\"", "a TensorFlow ConfigProto has no ONNX Runtime counterpart; set threads with --tensorflow_intra_op_parallelism and --tensorflow_inter_op_parallelism, or a model's execution block"),
        Ignored("use_alts_credentials", FlagValueKind.Bool, "false", "ALTS is Google Cloud's own transport security; for TLS on the gRPC port use --ssl_config_file"),
        Ignored("platform_config_file", FlagValueKind.String, "\"\"", "models are served by ONNX Runtime; TensorFlow platform configs do not apply"),
        Ignored("per_process_gpu_memory_fraction", FlagValueKind.Float, "0.000000", "ONNX Runtime's CUDA memory arena grows as needed"),
        Ignored("saved_model_tags", FlagValueKind.String, "\"serve\"", "models are ONNX files (model.onnx), not SavedModels"),
        Ignored("grpc_channel_arguments", FlagValueKind.String, "\"\"", "gRPC is served by Kestrel; its limits are Kestrel settings (Kestrel:Limits:Http2:*)"),
        Ignored("grpc_max_threads", FlagValueKind.Int32, "0", "gRPC calls run on the .NET thread pool, which sizes itself"),
        Ignored("num_request_iterations_for_warmup", FlagValueKind.Int32, "0", "the warm-up is one inference on zeros; there are no recorded warm-up requests to replay"),
        Ignored("remove_unused_fields_from_bundle_metagraph", FlagValueKind.Bool, "true", "ONNX models have no MetaGraphDef"),
        Ignored("prefer_tflite_model", FlagValueKind.Bool, "false", "TensorFlow Lite models are not served; models are ONNX"),
        Ignored("num_tflite_pools", FlagValueKind.Int32, "0", "TensorFlow Lite models are not served; models are ONNX"),
        Ignored("num_tflite_interpreters_per_pool", FlagValueKind.Int32, "1", "TensorFlow Lite models are not served; models are ONNX"),
        Ignored("enable_signature_method_name_check", FlagValueKind.Bool, "false", "ONNX models have no SignatureDef method names to check"),
        Ignored("xla_cpu_compilation_enabled", FlagValueKind.Bool, "false", "XLA is TensorFlow's compiler; ONNX Runtime optimises graphs itself (a model's graph_optimization_level)"),
        Ignored("xla_gpu_compilation_enabled", FlagValueKind.Bool, "false", "XLA is TensorFlow's compiler; ONNX Runtime optimises graphs itself (a model's graph_optimization_level)"),
        Ignored("enable_profiler", FlagValueKind.Bool, "true", "TensorFlow's profiler service does not exist here; use the OpenTelemetry traces and metrics"),
        Ignored("thread_pool_factory_config_file", FlagValueKind.String, "\"\"", "TensorFlow thread-pool factories do not apply; ONNX Runtime threads are set per session"),
        Ignored("mixed_precision", FlagValueKind.String, "\"\"", "an ONNX model runs in the precision it was exported with"),
        Ignored("skip_initialize_tpu", FlagValueKind.Bool, "false", "there is no TPU support"),
        Ignored("enable_grpc_healthcheck_service", FlagValueKind.Bool, "false", "the standard gRPC health service (grpc.health.v1) is always on"),
        Ignored("enable_serialization_as_tensor_content", FlagValueKind.Bool, "false", "the server chooses the tensor encoding of its gRPC responses itself"),
    ];

    private static readonly Dictionary<string, ServingFlag> s_byName = s_flags.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Every flag: tensorflow_model_server's (honoured or ignored) and ours.</summary>
    public static IReadOnlyList<ServingFlag> Flags => s_flags;

    /// <summary>The flags that set a configuration key, as <c>--name</c> → key (tensorflow_model_server's honoured flags and ours).</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = s_flags
        .Where(f => f.ConfigurationKey is not null)
        .ToDictionary(f => "--" + f.Name, f => f.ConfigurationKey!, StringComparer.Ordinal);

    /// <summary>The usage text printed by <c>--help</c> and after a command-line error.</summary>
    public static string Usage { get; } = BuildUsage();

    public static ServingCommandLineResult Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var result = new ServingCommandLineResult();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<ServingFlag>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                result.Errors.Add(arg == "--"
                    ? "'--' is not supported: every argument must be a flag"
                    : $"unexpected argument '{arg}': every argument must be a flag, --name=value");
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg[2..] : arg[2..equals];
            var value = equals < 0 ? null : arg[(equals + 1)..];
            var next = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[i + 1] : null;

            if (name.Contains(':', StringComparison.Ordinal) || name == HostEnvironmentFlag)
            {
                // A configuration key (--Serving:AdminApiKey=...) or the .NET environment: ours, always --key=value.
                if (value is null)
                {
                    result.Errors.Add(NeedsValue(name, next));
                    i += next is null ? 0 : 1;
                }
                else if (name == HostEnvironmentFlag)
                {
                    result.HostArgs.Add(arg);
                }
                else
                {
                    result.Settings.Add(new(name, value));
                }

                continue;
            }

            if (!s_byName.TryGetValue(name, out var flag))
            {
                result.Errors.Add($"unknown flag --{name}{Suggestion(name)}");
                continue;
            }

            if (value is null && flag.Kind != FlagValueKind.Bool)
            {
                result.Errors.Add(NeedsValue(name, next));
                i += next is null ? 0 : 1;
                continue;
            }

            if (!TryNormalize(flag, value, out var normalized))
            {
                result.Errors.Add($"--{name}={value}: not a valid {KindName(flag.Kind)}");
                continue;
            }

            if (!values.ContainsKey(name))
            {
                order.Add(flag);
            }

            values[name] = normalized;
        }

        Apply(order, values, result);
        return result;
    }

    /// <summary>Turns the flags' last values into settings, warnings and the help/version switches.</summary>
    private static void Apply(List<ServingFlag> given, Dictionary<string, string> values, ServingCommandLineResult result)
    {
        foreach (var flag in given)
        {
            var value = values[flag.Name];
            switch (flag.Treatment)
            {
                case FlagTreatment.Ignored:
                    result.Warnings.Add($"--{flag.Name} has no effect here: {flag.Help}");
                    break;
                case FlagTreatment.Honoured or FlagTreatment.Ours when flag.ConfigurationKey is { } key:
                    if (key is "Serving:Execution:IntraOpThreads" or "Serving:Execution:InterOpThreads" && !FitsInt32(flag.Name, value, result))
                    {
                        break;
                    }

                    result.Settings.Add(new(key, value));
                    break;
            }
        }

        result.ShowHelp = values.TryGetValue("help", out var help) && help == "true";
        result.ShowVersion = values.TryGetValue("version", out var version) && version == "true";

        // tensorflow_model_server: the session parallelism sets both thread counts unless either specific flag is set;
        // setting all three is an error.
        var session = Number(values, "tensorflow_session_parallelism");
        var intra = Number(values, "tensorflow_intra_op_parallelism");
        var inter = Number(values, "tensorflow_inter_op_parallelism");
        if (session > 0 && intra > 0 && inter > 0)
        {
            result.Errors.Add("set either --tensorflow_session_parallelism or --tensorflow_intra_op_parallelism and --tensorflow_inter_op_parallelism, not all three");
        }
        else if (session > 0 && intra <= 0 && inter <= 0 && FitsInt32("tensorflow_session_parallelism", values["tensorflow_session_parallelism"], result))
        {
            result.Settings.Add(new("Serving:Execution:IntraOpThreads", values["tensorflow_session_parallelism"]));
            result.Settings.Add(new("Serving:Execution:InterOpThreads", values["tensorflow_session_parallelism"]));
        }
    }

    private static long Number(Dictionary<string, string> values, string name) =>
        values.TryGetValue(name, out var text) ? long.Parse(text, CultureInfo.InvariantCulture) : 0;

    private static bool FitsInt32(string name, string value, ServingCommandLineResult result)
    {
        if (int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            return true;
        }

        result.Errors.Add($"--{name}={value}: too many threads");
        return false;
    }

    private static bool TryNormalize(ServingFlag flag, string? value, out string normalized)
    {
        const NumberStyles Integer = NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite;
        normalized = string.Empty;
        switch (flag.Kind)
        {
            case FlagValueKind.Bool:
                if (value is null || value.Equals("true", StringComparison.OrdinalIgnoreCase) || value == "1")
                {
                    normalized = "true";
                    return true;
                }

                if (value.Equals("false", StringComparison.OrdinalIgnoreCase) || value == "0")
                {
                    normalized = "false";
                    return true;
                }

                return false;
            case FlagValueKind.Int32 when int.TryParse(value, Integer, CultureInfo.InvariantCulture, out var int32):
                normalized = int32.ToString(CultureInfo.InvariantCulture);
                return true;
            case FlagValueKind.Int64 when long.TryParse(value, Integer, CultureInfo.InvariantCulture, out var int64):
                normalized = int64.ToString(CultureInfo.InvariantCulture);
                return true;
            case FlagValueKind.Float when float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var single) && float.IsFinite(single):
                normalized = single.ToString(CultureInfo.InvariantCulture);
                return true;
            case FlagValueKind.String:
                normalized = value!;
                return true;
            default:
                return false;
        }
    }

    private static string NeedsValue(string name, string? next) => next is null
        ? $"--{name} needs a value: --{name}=VALUE"
        : $"--{name} needs its value after '=': --{name}={next} (tensorflow_model_server's flags never take the next argument as their value)";

    /// <summary>The closest known flag within a couple of edits (typos such as --rest_api_prot).</summary>
    private static string Suggestion(string name)
    {
        var best = (Flag: (string?)null, Distance: int.MaxValue);
        foreach (var flag in s_flags)
        {
            var distance = EditDistance(name, flag.Name);
            if (distance < best.Distance)
            {
                best = (flag.Name, distance);
            }
        }

        return best.Flag is not null && best.Distance <= Math.Max(2, name.Length / 5) ? $" (did you mean --{best.Flag}?)" : string.Empty;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string KindName(FlagValueKind kind) => kind switch
    {
        FlagValueKind.Bool => "bool (true, false, 1 or 0)",
        FlagValueKind.Int32 => "int32",
        FlagValueKind.Int64 => "int64",
        FlagValueKind.Float => "float",
        _ => "string",
    };

    private static string BuildUsage()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"usage: {ProgramName} --flag=value ... (tensorflow_model_server's flags)");
        Section("Flags:", f => f.Treatment == FlagTreatment.Honoured);
        Section("ServingStack's own flags:", f => f.Treatment == FlagTreatment.Ours);
        Section("Accepted for compatibility, with no effect here:", f => f.Treatment == FlagTreatment.Ignored);
        text.AppendLine("Any configuration key can also be set as --Section:Key=value, as an environment variable (Serving__Port=8500)");
        text.AppendLine("or in appsettings.json; MODEL_NAME and MODEL_BASE_PATH work as in the tensorflow/serving image.");
        return text.ToString();

        void Section(string title, Func<ServingFlag, bool> which)
        {
            text.AppendLine(title);
            foreach (var flag in s_flags.Where(which))
            {
                var type = flag.Kind switch
                {
                    FlagValueKind.Bool => "bool",
                    FlagValueKind.Int32 => "int32",
                    FlagValueKind.Int64 => "int64",
                    FlagValueKind.Float => "float",
                    _ => "string",
                };
                text.Append(("  --" + flag.Name + "=" + flag.Default).PadRight(56)).Append(type.PadRight(8)).AppendLine(flag.Help);
            }
        }
    }

    private static ServingFlag Honoured(string name, FlagValueKind kind, string? key, string defaultText, string help) =>
        new(name, kind, FlagTreatment.Honoured, key, defaultText, help);

    private static ServingFlag Ours(string name, FlagValueKind kind, string key, string defaultText, string help) =>
        new(name, kind, FlagTreatment.Ours, key, defaultText, help);

    private static ServingFlag Ignored(string name, FlagValueKind kind, string defaultText, string reason) =>
        new(name, kind, FlagTreatment.Ignored, null, defaultText, reason);
}
