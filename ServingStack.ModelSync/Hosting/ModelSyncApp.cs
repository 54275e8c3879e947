using Microsoft.Extensions.Options;
using ServingStack.ModelSync.Configuration;
using ServingStack.ModelSync.Sync;

namespace ServingStack.ModelSync.Hosting;

/// <summary>Builds the sidecar; Program.cs runs it, tests start it in process.</summary>
public static class ModelSyncApp
{
    /// <summary>The name configuration errors are reported under (<c>model sync: invalid configuration:</c>).</summary>
    public const string ProcessName = "model sync";

    /// <summary>Builds the sidecar; throws <see cref="ConfigurationProblemsException"/> for unknown flags or stray arguments.</summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var problems = ModelSyncCommandLine.Check(args);
        if (problems.Count > 0)
        {
            throw new ConfigurationProblemsException(problems);
        }

        var normalized = ModelSyncCommandLine.Normalize(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = normalized, ContentRootPath = AppContext.BaseDirectory });
        builder.AddModelSyncCommandLine(normalized);
        builder.AddServiceDefaults();
        builder.AddModelSync();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapModelSync();
        return app;
    }

    /// <summary>
    /// Reads the configuration, then either syncs once and returns an exit code without starting Kestrel (<c>--once</c>,
    /// for init containers), or runs the polling web app until it is stopped. An invalid configuration throws
    /// (<see cref="Microsoft.Extensions.Options.OptionsValidationException"/>, or the binder's error for a value of the
    /// wrong type); Program.cs turns that into <see cref="ModelSyncExitCodes.InvalidConfiguration"/> with every problem
    /// on stderr, in both modes.
    /// </summary>
    public static async Task<int> RunModelSyncAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        var options = app.Services.GetRequiredService<IOptions<ModelSyncOptions>>().Value;

        if (!options.Once)
        {
            await app.RunAsync(cancellationToken);
            return Environment.ExitCode;
        }

        try
        {
            var syncer = app.Services.GetRequiredService<ModelSyncer>();
            var report = await syncer.SyncAsync(cancellationToken);
            await WriteSummaryAsync(report, syncer);
            return report.Succeeded ? ModelSyncExitCodes.Complete : ModelSyncExitCodes.Incomplete;
        }
        finally
        {
            // Flushes the console logger.
            await app.DisposeAsync();
        }
    }

    private static async Task WriteSummaryAsync(SyncReport report, ModelSyncer syncer)
    {
        if (report.Succeeded)
        {
            var versions = report.Published.Concat(report.Present).Order(StringComparer.Ordinal).ToList();
            await Console.Out.WriteLineAsync(
                $"model sync: complete: {syncer.Target} holds {versions.Count} version(s) from {syncer.SourceDescription} " +
                $"({string.Join(", ", versions)}); {report.Published.Count} published, {report.BytesDownloaded} bytes downloaded");
            return;
        }

        await Console.Error.WriteLineAsync(
            $"model sync: incomplete: {syncer.Target} from {syncer.SourceDescription}: {report.Problems.Count} problem(s); " +
            $"{report.Published.Count} version(s) published, {report.Present.Count} already present");
        foreach (var problem in report.Problems)
        {
            await Console.Error.WriteLineAsync($"  {problem.Reason}: {problem}");
        }
    }
}
