using ServingStack.Bench.Cli;
using ServingStack.Bench.Models;
using ServingStack.Bench.Options;
using ServingStack.Bench.Reporting;

namespace ServingStack.Bench.Commands;

/// <summary><c>make-models</c>: writes the benchmark model repository and its models.json.</summary>
public static class MakeModelsCommand
{
    public static int Execute(IReadOnlyList<string> args)
    {
        var parsed = ParsedArguments.Parse(MakeModelsOptions.Command, args);
        if (parsed.HelpRequested)
        {
            HelpWriter.WriteCommand(Console.Out, MakeModelsOptions.Command);
            return ExitCodes.Success;
        }

        var options = MakeModelsOptions.Bind(parsed);
        List<string> errors = [.. parsed.Errors, .. MakeModelsOptionsValidator.Validate(options)];
        if (errors.Count > 0)
        {
            HelpWriter.WriteErrors(Console.Error, MakeModelsOptions.Command, errors);
            return ExitCodes.BadArguments;
        }

        try
        {
            ModelMaker.Write(options, ConsoleOutput.Info);
            return ExitCodes.Success;
        }
        catch (Exception ex) when (ex is BenchException or IOException or UnauthorizedAccessException)
        {
            ConsoleOutput.Error(ex.Message);
            return ExitCodes.Failure;
        }
    }
}
