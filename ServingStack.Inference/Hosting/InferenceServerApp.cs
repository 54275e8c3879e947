using System.Reflection;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace ServingStack.Inference.Hosting;

/// <summary>Builds the whole server; Program.cs runs it and tests start it on a loopback port.</summary>
public static partial class InferenceServerApp
{
    /// <summary>
    /// What Program.cs runs: <c>--help</c> and <c>--version</c> print and exit 0; a command-line or configuration error
    /// exits 1 with every problem on stderr; otherwise the server runs until SIGTERM and exits 0.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var commandLine = ServingCommandLine.Parse(args);
        if (commandLine.ShowHelp)
        {
            await Console.Out.WriteAsync(ServingCommandLine.Usage);
            return 0;
        }

        if (commandLine.ShowVersion && commandLine.Errors.Count == 0)
        {
            await Console.Out.WriteLineAsync($"ServingStack model server: {Version}");
            await Console.Out.WriteLineAsync($"ONNX Runtime: {OrtEnv.Instance().GetVersionString()}");
            return 0;
        }

        // A pod deployed without our sync init container fills its repository here first (ModelSync__Source).
        if (commandLine.Errors.Count == 0 && await StartupModelSync.RunIfConfiguredAsync() is var syncExit and not 0)
        {
            return syncExit;
        }

        return await StartupFailures.RunOrExitAsync(ServingCommandLine.ProgramName, () => Create(args));
    }

    /// <summary>Builds the server from tensorflow_model_server-style <paramref name="args"/>; throws <see cref="ConfigurationProblemsException"/> for a bad command line.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var commandLine = ServingCommandLine.Parse(args);
        if (commandLine.Errors.Count > 0)
        {
            throw new ConfigurationProblemsException(commandLine.Errors, ServingCommandLine.Usage);
        }

        // appsettings.json beside the binary, wherever the server is started from (paths in flags still resolve
        // against the working directory, as tensorflow_model_server's do). The flags are the last configuration
        // source but for SERVICE_CONFIG_FILES (mounted ConfigMaps), which the service defaults add after them.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. commandLine.HostArgs], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(commandLine.Settings);
        builder.AddServiceDefaults();
        var fromEnvironment = ModelEnvironment.Apply(builder.Configuration);
        builder.AddInferenceServer();
        configure?.Invoke(builder);

        var app = builder.Build();
        // Every ValidateOnStart check now, together, before anything below reads an options value on its own (one
        // failing alone would hide the other problems).
        app.Services.GetService<IStartupValidator>()?.Validate();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServingCommandLine).FullName!);
        foreach (var warning in commandLine.Warnings)
        {
            Log.FlagIgnored(logger, warning);
        }

        if (fromEnvironment is not null)
        {
            Log.ModelFromEnvironment(logger, fromEnvironment);
        }

        app.MapDefaultEndpoints();
        app.MapInferenceServer();
        return app;
    }

    private static string Version =>
        typeof(InferenceServerApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(InferenceServerApp).Assembly.GetName().Version?.ToString() ?? "unknown";

    private static partial class Log
    {
        [LoggerMessage(EventId = 310, EventName = "FlagIgnored", Level = LogLevel.Warning, Message = "{Warning}")]
        public static partial void FlagIgnored(ILogger logger, string warning);

        [LoggerMessage(EventId = 311, EventName = "ModelFromEnvironment", Level = LogLevel.Information, Message = "No --model_base_path or --model_config_file: {Choice}")]
        public static partial void ModelFromEnvironment(ILogger logger, string choice);
    }
}
