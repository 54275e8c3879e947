using ServingStack.Bench.Cli;

namespace ServingStack.Bench.Baselines;

/// <summary>The options every baseline server takes (model file, model name, port), parsed and checked once.</summary>
public sealed record BaselineArguments(string ModelFile, string ModelName, int Port)
{
    /// <summary>The arguments, or null with <paramref name="exitCode"/> set when help was asked for or an option is wrong.</summary>
    public static BaselineArguments? Parse(CommandSpec command, IReadOnlyList<string> args, int defaultPort, out int exitCode)
    {
        var parsed = ParsedArguments.Parse(command, args);
        if (parsed.HelpRequested)
        {
            HelpWriter.WriteCommand(Console.Out, command);
            exitCode = ExitCodes.Success;
            return null;
        }

        var modelFile = parsed.Require("model-file");
        var name = parsed.Get("model-name") ?? "mnist";
        var port = parsed.Int("port", defaultPort, 1, 65535);
        if (modelFile is not null && !File.Exists(modelFile))
        {
            parsed.Errors.Add($"Option '--model-file': '{modelFile}' does not exist.");
        }

        if (parsed.Errors.Count > 0 || modelFile is null)
        {
            HelpWriter.WriteErrors(Console.Error, command, parsed.Errors);
            exitCode = ExitCodes.BadArguments;
            return null;
        }

        exitCode = ExitCodes.Success;
        return new BaselineArguments(modelFile, name, port);
    }
}
