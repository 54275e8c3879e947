using ServingStack.Inference.Hosting;

namespace ServingStack.Tests.Inference.Hosting;

/// <summary>The tensorflow_model_server command line, parsed without starting anything.</summary>
public sealed class ServingCommandLineTests
{
    /// <summary>Every flag tensorflow_model_server's main.cc defines, with its type there.</summary>
    public static TheoryData<string, FlagValueKind> TfServingFlags => new()
    {
        { "port", FlagValueKind.Int32 }, { "grpc_socket_path", FlagValueKind.String }, { "rest_api_port", FlagValueKind.Int32 },
        { "rest_api_num_threads", FlagValueKind.Int32 }, { "rest_api_timeout_in_ms", FlagValueKind.Int32 },
        { "rest_api_enable_cors_support", FlagValueKind.Bool }, { "enable_batching", FlagValueKind.Bool },
        { "allow_version_labels_for_unavailable_models", FlagValueKind.Bool }, { "batching_parameters_file", FlagValueKind.String },
        { "enable_per_model_batching_parameters", FlagValueKind.Bool }, { "model_config_file", FlagValueKind.String },
        { "model_config_file_poll_wait_seconds", FlagValueKind.Int32 }, { "model_name", FlagValueKind.String },
        { "model_base_path", FlagValueKind.String }, { "num_load_threads", FlagValueKind.Int32 }, { "num_unload_threads", FlagValueKind.Int32 },
        { "max_num_load_retries", FlagValueKind.Int32 }, { "load_retry_interval_micros", FlagValueKind.Int64 },
        { "file_system_poll_wait_seconds", FlagValueKind.Int32 }, { "flush_filesystem_caches", FlagValueKind.Bool },
        { "tensorflow_session_parallelism", FlagValueKind.Int64 }, { "tensorflow_session_config_file", FlagValueKind.String },
        { "tensorflow_intra_op_parallelism", FlagValueKind.Int64 }, { "tensorflow_inter_op_parallelism", FlagValueKind.Int64 },
        { "use_alts_credentials", FlagValueKind.Bool }, { "ssl_config_file", FlagValueKind.String }, { "platform_config_file", FlagValueKind.String },
        { "per_process_gpu_memory_fraction", FlagValueKind.Float }, { "saved_model_tags", FlagValueKind.String },
        { "grpc_channel_arguments", FlagValueKind.String }, { "grpc_max_threads", FlagValueKind.Int32 }, { "enable_model_warmup", FlagValueKind.Bool },
        { "num_request_iterations_for_warmup", FlagValueKind.Int32 }, { "version", FlagValueKind.Bool }, { "monitoring_config_file", FlagValueKind.String },
        { "remove_unused_fields_from_bundle_metagraph", FlagValueKind.Bool }, { "prefer_tflite_model", FlagValueKind.Bool },
        { "num_tflite_pools", FlagValueKind.Int32 }, { "num_tflite_interpreters_per_pool", FlagValueKind.Int32 },
        { "enable_signature_method_name_check", FlagValueKind.Bool }, { "xla_cpu_compilation_enabled", FlagValueKind.Bool },
        { "xla_gpu_compilation_enabled", FlagValueKind.Bool }, { "enable_profiler", FlagValueKind.Bool },
        { "thread_pool_factory_config_file", FlagValueKind.String }, { "mixed_precision", FlagValueKind.String },
        { "skip_initialize_tpu", FlagValueKind.Bool }, { "enable_grpc_healthcheck_service", FlagValueKind.Bool },
        { "enable_serialization_as_tensor_content", FlagValueKind.Bool },
    };

    [Theory]
    [MemberData(nameof(TfServingFlags))]
    public void Every_tensorflow_model_server_flag_is_known_with_its_type_and_is_honoured_or_ignored_with_a_reason(string name, FlagValueKind kind)
    {
        var flag = Assert.Single(ServingCommandLine.Flags, f => f.Name == name);
        Assert.Equal(kind, flag.Kind);
        Assert.NotEqual(FlagTreatment.Ours, flag.Treatment);
        Assert.False(string.IsNullOrWhiteSpace(flag.Help));
        Assert.Contains($"--{name}=", ServingCommandLine.Usage, StringComparison.Ordinal);

        var parsed = ServingCommandLine.Parse([$"--{name}={SampleValue(kind)}"]);
        Assert.Empty(parsed.Errors);
        if (flag.Treatment == FlagTreatment.Ignored)
        {
            var warning = Assert.Single(parsed.Warnings);
            Assert.StartsWith($"--{name} has no effect here: ", warning, StringComparison.Ordinal);
            Assert.Empty(parsed.Settings);
        }
        else
        {
            Assert.Empty(parsed.Warnings);
        }
    }

    [Theory]
    [InlineData("--enable_batching", "true")]
    [InlineData("--enable_batching=true", "true")]
    [InlineData("--enable_batching=TRUE", "true")]
    [InlineData("--enable_batching=1", "true")]
    [InlineData("--enable_batching=false", "false")]
    [InlineData("--enable_batching=False", "false")]
    [InlineData("--enable_batching=0", "false")]
    public void Booleans_take_tensorflow_model_servers_spellings(string arg, string expected)
    {
        var parsed = ServingCommandLine.Parse([arg]);
        Assert.Empty(parsed.Errors);
        Assert.Equal(Pairs(("Serving:EnableBatching", expected)), parsed.Settings);
    }

    [Fact]
    public void A_bare_boolean_never_takes_the_next_argument_wherever_it_stands()
    {
        var parsed = ServingCommandLine.Parse(["--enable_batching", "--port=9000", "--model_name=m", "--rest_api_enable_cors_support"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(
            Pairs(("Serving:EnableBatching", "true"), ("Serving:Port", "9000"), ("Serving:ModelName", "m"), ("Serving:RestApiEnableCorsSupport", "true")),
            parsed.Settings);
    }

    [Fact]
    public void Numbers_read_as_tensorflow_model_server_reads_them_and_the_last_value_wins()
    {
        var parsed = ServingCommandLine.Parse(["--port=+8600", "--load_retry_interval_micros=-1", "--max_num_load_retries=7", "--port=8700"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(Pairs(("Serving:Port", "8700"), ("Serving:LoadRetryIntervalMicros", "-1"), ("Serving:MaxNumLoadRetries", "7")), parsed.Settings);
    }

    [Fact]
    public void A_value_after_a_space_is_refused_with_the_right_spelling_as_tensorflow_model_server_takes_none()
    {
        var parsed = ServingCommandLine.Parse(["--port", "9000", "--model_name"]);

        Assert.Equal(2, parsed.Errors.Count);
        Assert.Contains("--port=9000", parsed.Errors[0], StringComparison.Ordinal);
        Assert.Equal("--model_name needs a value: --model_name=VALUE", parsed.Errors[1]);
        Assert.Empty(parsed.Settings);
    }

    [Fact]
    public void Unknown_flags_malformed_values_and_stray_arguments_are_all_reported_at_once()
    {
        var parsed = ServingCommandLine.Parse(
            ["--rest_api_prot=1234", "--max_num_threads=8", "--enable_batching=yes", "--port=eighty", "--per_process_gpu_memory_fraction=half", "models", "-port=1", "--"]);

        Assert.Equal(
        [
            "unknown flag --rest_api_prot (did you mean --rest_api_port?)",
            "unknown flag --max_num_threads",
            "--enable_batching=yes: not a valid bool (true, false, 1 or 0)",
            "--port=eighty: not a valid int32",
            "--per_process_gpu_memory_fraction=half: not a valid float",
            "unexpected argument 'models': every argument must be a flag, --name=value",
            "unexpected argument '-port=1': every argument must be a flag, --name=value",
            "'--' is not supported: every argument must be a flag",
        ], parsed.Errors);
    }

    [Fact]
    public void An_ignored_flag_warns_once_however_often_it_is_given()
    {
        var parsed = ServingCommandLine.Parse(["--saved_model_tags=serve", "--saved_model_tags=serve,gpu", "--platform_config_file=/etc/platform.config"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(2, parsed.Warnings.Count);
        Assert.StartsWith("--saved_model_tags has no effect here: ", parsed.Warnings[0], StringComparison.Ordinal);
        Assert.StartsWith("--platform_config_file has no effect here: ", parsed.Warnings[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Session_parallelism_sets_both_thread_counts_unless_a_specific_count_is_given_and_all_three_are_an_error()
    {
        var both = ServingCommandLine.Parse(["--tensorflow_session_parallelism=4"]);
        Assert.Equal(Pairs(("Serving:Execution:IntraOpThreads", "4"), ("Serving:Execution:InterOpThreads", "4")), both.Settings);

        var specific = ServingCommandLine.Parse(["--tensorflow_session_parallelism=4", "--tensorflow_intra_op_parallelism=2"]);
        Assert.Empty(specific.Errors);
        Assert.Equal(Pairs(("Serving:Execution:IntraOpThreads", "2")), specific.Settings);

        var all = ServingCommandLine.Parse(["--tensorflow_session_parallelism=4", "--tensorflow_intra_op_parallelism=2", "--tensorflow_inter_op_parallelism=1"]);
        Assert.Contains(all.Errors, e => e.Contains("not all three", StringComparison.Ordinal));

        var huge = ServingCommandLine.Parse(["--tensorflow_intra_op_parallelism=9000000000"]);
        Assert.Equal(["--tensorflow_intra_op_parallelism=9000000000: too many threads"], huge.Errors);
    }

    [Fact]
    public void Configuration_keys_and_the_environment_pass_through_and_help_and_version_are_switches()
    {
        var parsed = ServingCommandLine.Parse(["--Serving:AdminApiKey=0123456789abcdef", "--environment=Testing", "--help", "--version=false"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(Pairs(("Serving:AdminApiKey", "0123456789abcdef")), parsed.Settings);
        Assert.Equal(["--environment=Testing"], parsed.HostArgs);
        Assert.True(parsed.ShowHelp);
        Assert.False(parsed.ShowVersion);
    }

    [Fact]
    public void Our_own_flags_keep_their_configuration_keys()
    {
        var parsed = ServingCommandLine.Parse(
            ["--listen_address=127.0.0.1", "--model_control_mode=explicit", "--drain_delay_seconds=0", "--shutdown_grace_seconds=5",
             "--max_request_body_bytes=2048", "--execution_provider=cuda", "--device_id=1", "--allow_spinning"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(
            Pairs(("Serving:ListenAddress", "127.0.0.1"), ("Serving:ModelControlMode", "explicit"), ("Serving:DrainDelaySeconds", "0"),
            ("Serving:ShutdownGraceSeconds", "5"), ("Serving:MaxRequestBodyBytes", "2048"), ("Serving:Execution:Provider", "cuda"),
            ("Serving:Execution:DeviceId", "1"), ("Serving:Execution:AllowSpinning", "true")), parsed.Settings);
    }

    private static List<KeyValuePair<string, string?>> Pairs(params (string Key, string Value)[] pairs) =>
        pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value)).ToList();

    private static string SampleValue(FlagValueKind kind) => kind switch
    {
        FlagValueKind.Bool => "false",
        FlagValueKind.Int32 or FlagValueKind.Int64 => "0",
        FlagValueKind.Float => "0.5",
        _ => string.Empty,
    };
}
