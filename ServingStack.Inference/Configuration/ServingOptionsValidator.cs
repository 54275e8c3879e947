using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Hosting;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Configuration;

/// <summary>Collects every problem in <see cref="ServingOptions"/> so one failed start lists them all.</summary>
public sealed class ServingOptionsValidator(IConfiguration? configuration = null) : IValidateOptions<ServingOptions>
{
    // sockaddr_un.sun_path holds 108 bytes on Linux, including the terminating NUL.
    private const int MaxUnixSocketPathBytes = 107;

    public ValidateOptionsResult Validate(string? name, ServingOptions options)
    {
        var errors = new List<string>();
        if (options.RestApiPort is < 0 or > 65535)
        {
            errors.Add($"Serving:RestApiPort (--rest_api_port) must be 0..65535, not {options.RestApiPort}.");
        }

        if (options.Port is < 0 or > 65535)
        {
            errors.Add($"Serving:Port (--port) must be 0..65535, not {options.Port}.");
        }

        if (options.Port != 0 && options.Port == options.RestApiPort)
        {
            errors.Add($"--port (gRPC) and --rest_api_port must differ; both are {options.Port}.");
        }

        if (options.ListenAddress is not ("*" or "0.0.0.0" or "::") && !IPAddress.TryParse(options.ListenAddress, out _))
        {
            errors.Add($"Serving:ListenAddress must be an IP address or '*', not '{options.ListenAddress}'.");
        }

        var hasBase = !string.IsNullOrWhiteSpace(options.ModelBasePath);
        var hasFile = !string.IsNullOrWhiteSpace(options.ModelConfigFile);
        var hasList = configuration?.GetSection(ServingOptions.ModelConfigListSection).Exists() == true;
        if (hasBase && hasFile)
        {
            errors.Add("Pass either --model_config_file or --model_base_path, not both.");
        }
        else if (hasList && (hasBase || hasFile))
        {
            errors.Add($"Pass either {(hasFile ? "--model_config_file" : "--model_base_path")} or {ServingOptions.ModelConfigListSection} (environment), not both.");
        }
        else if (!hasBase && !hasFile && !hasList)
        {
            errors.Add($"No models to serve: pass --model_config_file=FILE, --model_base_path=DIR with --model_name=NAME, or {ServingOptions.ModelConfigListSection} (environment).");
        }

        if (hasBase && !ModelConfigValidation.IsValidModelName(options.ModelName))
        {
            errors.Add($"--model_name '{options.ModelName}' must match [A-Za-z0-9_.-]+.");
        }

        if (options.FileSystemPollWaitSeconds < 0)
        {
            errors.Add($"--file_system_poll_wait_seconds must be >= 0, not {options.FileSystemPollWaitSeconds}.");
        }

        if (options.NumLoadThreads < 0)
        {
            errors.Add($"--num_load_threads must be >= 0, not {options.NumLoadThreads}.");
        }

        if (options.MaxNumLoadRetries < 0)
        {
            errors.Add($"--max_num_load_retries must be >= 0, not {options.MaxNumLoadRetries}.");
        }

        if (options.ModelConfigFilePollWaitSeconds < 0)
        {
            errors.Add($"--model_config_file_poll_wait_seconds must be >= 0 (0: read once), not {options.ModelConfigFilePollWaitSeconds}.");
        }

        if (options.GrpcSocketPath is { Length: > 0 } socket && (socket.IndexOfAny(Path.GetInvalidPathChars()) >= 0 || Encoding.UTF8.GetByteCount(Path.GetFullPath(socket)) > MaxUnixSocketPathBytes))
        {
            errors.Add($"--grpc_socket_path '{socket}' must be a valid path of at most {MaxUnixSocketPathBytes} bytes once made absolute (a Unix socket's limit).");
        }

        if (options.DrainDelaySeconds < 0 || options.ShutdownGraceSeconds < 0)
        {
            errors.Add("--drain_delay_seconds and --shutdown_grace_seconds must be >= 0.");
        }

        if (!string.IsNullOrWhiteSpace(options.SslConfigFile))
        {
            GrpcSslConfig.Read(options.SslConfigFile, errors);
        }

        if (options.AdminApiKey is { Length: > 0 and < 16 })
        {
            errors.Add("Serving:AdminApiKey must be at least 16 characters.");
        }

        if (options.RestApiTimeoutInMs < 0)
        {
            errors.Add($"--rest_api_timeout_in_ms must be >= 0 (0: no limit), not {options.RestApiTimeoutInMs}.");
        }

        if (options.MaxRequestBodyBytes < 1024)
        {
            errors.Add($"Serving:MaxRequestBodyBytes must be at least 1024, not {options.MaxRequestBodyBytes}.");
        }

        ModelConfigValidation.ValidateExecution("Serving:Execution", options.Execution, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
