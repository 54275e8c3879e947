namespace ServingStack.Inference.Hosting;

/// <summary>tensorflow_model_server's flag names, so the commands people already run carry over unchanged.</summary>
public static class ServingCommandLine
{
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--rest_api_port"] = "Serving:RestApiPort",
        ["--port"] = "Serving:Port",
        ["--listen_address"] = "Serving:ListenAddress",
        ["--model_name"] = "Serving:ModelName",
        ["--model_base_path"] = "Serving:ModelBasePath",
        ["--model_config_file"] = "Serving:ModelConfigFile",
        ["--file_system_poll_wait_seconds"] = "Serving:FileSystemPollWaitSeconds",
        ["--model_config_file_poll_wait_seconds"] = "Serving:ModelConfigFilePollWaitSeconds",
        ["--model_control_mode"] = "Serving:ModelControlMode",
        ["--drain_delay_seconds"] = "Serving:DrainDelaySeconds",
        ["--shutdown_grace_seconds"] = "Serving:ShutdownGraceSeconds",
        ["--num_load_threads"] = "Serving:NumLoadThreads",
        ["--rest_api_timeout_in_ms"] = "Serving:RestApiTimeoutInMs",
        ["--max_request_body_bytes"] = "Serving:MaxRequestBodyBytes",
        ["--enable_batching"] = "Serving:EnableBatching",
        ["--batching_parameters_file"] = "Serving:BatchingParametersFile",
        ["--monitoring_config_file"] = "Serving:MonitoringConfigFile",
        ["--execution_provider"] = "Serving:Execution:Provider",
        ["--device_id"] = "Serving:Execution:DeviceId",
        ["--allow_spinning"] = "Serving:Execution:AllowSpinning",
        ["--tensorflow_intra_op_parallelism"] = "Serving:Execution:IntraOpThreads",
        ["--tensorflow_inter_op_parallelism"] = "Serving:Execution:InterOpThreads",
    };

    public static TBuilder AddServingCommandLine<TBuilder>(this TBuilder builder, string[] args) where TBuilder : IHostApplicationBuilder
    {
        builder.Configuration.AddCommandLine(args, (IDictionary<string, string>)SwitchMappings);
        return builder;
    }
}
