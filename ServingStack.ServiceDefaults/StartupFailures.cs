using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Runs a service so that a configuration error ends the process with a known exit code and every problem on stderr,
/// instead of an unhandled exception (exit 134, SIGABRT, a stack trace burying the message). What counts: options
/// validation (<c>ValidateOnStart</c>, or options read while the host is built), values that do not convert to their
/// option's type, configuration files that are missing or unreadable, a listener whose address is taken, and
/// <see cref="ConfigurationProblemsException"/>. Anything else is a bug and keeps its stack trace.
/// </summary>
public static class StartupFailures
{
    /// <summary>The exit code of a configuration error, unless a service documents its own.</summary>
    public const int ConfigurationErrorExitCode = 1;

    /// <summary>
    /// Builds the app with <paramref name="create"/> and runs it with <paramref name="run"/> (default: until stopped, then 0).
    /// A configuration error while building or starting returns <paramref name="exitCode"/> after printing every problem
    /// to <paramref name="errors"/> (default: stderr).
    /// </summary>
    public static async Task<int> RunOrExitAsync(
        string processName,
        Func<WebApplication> create,
        Func<WebApplication, Task<int>>? run = null,
        int exitCode = ConfigurationErrorExitCode,
        TextWriter? errors = null)
    {
        ArgumentNullException.ThrowIfNull(create);
        errors ??= Console.Error;
        WebApplication app;
        try
        {
            app = create();
        }
        catch (Exception ex) when (Problems(ex, whileBuilding: true) is { } problems)
        {
            await WriteAsync(errors, processName, problems, (ex as ConfigurationProblemsException)?.Usage);
            return exitCode;
        }

        try
        {
            // What ValidateOnStart would check inside StartAsync, checked first: every options type at once, before
            // a hosted service's constructor reads one alone and the host logs the failure with its stack trace.
            app.Services.GetService<IStartupValidator>()?.Validate();
            if (run is not null)
            {
                return await run(app);
            }

            await app.RunAsync();
            return Environment.ExitCode;
        }
        catch (Exception ex) when (Problems(ex, whileBuilding: false) is { } problems)
        {
            await WriteAsync(errors, processName, problems, usage: null);
            return exitCode;
        }
    }

    /// <summary>Every configuration problem <paramref name="exception"/> reports, or null when it is not a configuration error.</summary>
    public static IReadOnlyList<string>? ConfigurationProblems(Exception exception) => Problems(exception, whileBuilding: false);

    /// <summary>Writes <c>{process}: invalid configuration:</c>, one indented line per problem, then the usage text if any.</summary>
    public static async Task WriteAsync(TextWriter writer, string processName, IReadOnlyList<string> problems, string? usage)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(problems);
        var text = new StringBuilder();
        text.Append(processName).AppendLine(": invalid configuration:");
        foreach (var problem in problems)
        {
            text.Append("  ").AppendLine(problem.ReplaceLineEndings(Environment.NewLine + "    "));
        }

        if (!string.IsNullOrEmpty(usage))
        {
            text.AppendLine().Append(usage);
        }

        await writer.WriteAsync(text.ToString());
        await writer.FlushAsync();
    }

    private static List<string>? Problems(Exception exception, bool whileBuilding)
    {
        switch (exception)
        {
            case ConfigurationProblemsException configuration:
                return [.. configuration.Problems];
            case OptionsValidationException validation:
                return [.. validation.Failures];
            case AggregateException aggregate:
                // ValidateOnStart reports several failing options types together.
                var all = new List<string>();
                foreach (var inner in aggregate.Flatten().InnerExceptions)
                {
                    if (Problems(inner, whileBuilding) is not { } problems)
                    {
                        return null;
                    }

                    all.AddRange(problems);
                }

                return all.Count > 0 ? all : null;
            case InvalidOperationException when exception.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal):
                // The binder's own message names the value, the key and the type.
                return [exception.Message];
            case IOException when exception.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal):
                return [exception.Message];
            case FileNotFoundException or InvalidDataException or FormatException when whileBuilding:
                // Configuration sources load as they are added: a missing or malformed file fails the build itself.
                return [exception.InnerException is { } cause ? $"{exception.Message} {cause.Message}" : exception.Message];
            default:
                return null;
        }
    }
}
