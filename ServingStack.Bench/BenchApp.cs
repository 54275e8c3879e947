using ServingStack.Bench.Baselines;
using ServingStack.Bench.Cli;
using ServingStack.Bench.Commands;
using ServingStack.Bench.Options;
using ServingStack.Bench.Reporting;

namespace ServingStack.Bench;

/// <summary>Picks the command, wires Ctrl+C to a graceful stop, and returns the exit code.</summary>
public static class BenchApp
{
    private static readonly CommandSpec[] Commands = [MakeModelsOptions.Command, RunOptions.Command, InprocOptions.Command];

    // The floors and the reference client (Baselines/), listed after the commands above.
    private static readonly CommandSpec[] BaselineCommands = [ServeEchoCommand.Command, ServeOrtCommand.Command, YarpBaselineCommand.Command, MinimalClientCommand.Command];

    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        ConsoleOutput.Configure();
        if (args.Length == 0 || args[0] is "-h" or "--help" or "-?" or "help" && args.Length == 1)
        {
            HelpWriter.WriteOverview(Console.Out, [.. Commands, .. BaselineCommands]);
            return args.Length == 0 ? ExitCodes.BadArguments : ExitCodes.Success;
        }

        // "help run" is "run --help".
        if (args[0] == "help")
        {
            args = [args[1], "--help"];
        }

        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl+C stops the load and still writes what was measured; a second one ends the process.
            e.Cancel = !stop.IsCancellationRequested;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var rest = args.AsSpan(1).ToArray();
            return args[0] switch
            {
                "make-models" => MakeModelsCommand.Execute(rest),
                "run" => await RunCommand.ExecuteAsync(rest, stop.Token).ConfigureAwait(false),
                "inproc" => await InprocCommand.ExecuteAsync(rest, stop.Token).ConfigureAwait(false),
                "serve-echo" => await ServeEchoCommand.ExecuteAsync(rest, stop.Token).ConfigureAwait(false),
                "serve-ort" => await ServeOrtCommand.ExecuteAsync(rest, stop.Token).ConfigureAwait(false),
                "minimal-client" => await MinimalClientCommand.ExecuteAsync(rest, stop.Token).ConfigureAwait(false),
                "serve-yarp" => await YarpBaselineCommand.ExecuteAsync(rest, stop.Token).ConfigureAwait(false),
                _ => Unknown(args[0]),
            };
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"Unknown command '{command}'. Commands: {string.Join(", ", Commands.Concat(BaselineCommands).Select(c => c.Name))}. Run '--help' for usage.");
        return ExitCodes.BadArguments;
    }
}
