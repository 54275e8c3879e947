namespace ServingStack.Bench.Cli;

/// <summary>Plain-text help: the tool's overview and each command's options.</summary>
public static class HelpWriter
{
    public const string ToolName = "ServingStack.Bench";

    public static void WriteOverview(TextWriter writer, IEnumerable<CommandSpec> commands)
    {
        writer.WriteLine($"{ToolName}: load generator for ServingStack (and any Open Inference / TF Serving REST server on this machine).");
        writer.WriteLine();
        writer.WriteLine("Usage: dotnet run --project ServingStack.Bench -c Release -- <command> [options]");
        writer.WriteLine();
        writer.WriteLine("Commands:");
        foreach (var command in commands)
        {
            writer.WriteLine($"  {command.Name,-15} {command.Summary}");
        }

        writer.WriteLine();
        writer.WriteLine("Run '<command> --help' for a command's options. Load is only ever sent to loopback addresses.");
    }

    public static void WriteCommand(TextWriter writer, CommandSpec command)
    {
        writer.WriteLine($"{ToolName} {command.Name}: {command.Summary}");
        writer.WriteLine();
        writer.WriteLine($"Usage: {command.Name} [options]");
        writer.WriteLine();
        writer.WriteLine("Options:");
        var width = command.Options.Max(o => o.Usage.Length) + 2;
        foreach (var option in command.Options)
        {
            var text = option.Default is null ? option.Description : $"{option.Description} (default: {option.Default})";
            writer.WriteLine($"  {option.Usage.PadRight(width)}{text}");
        }

        writer.WriteLine($"  {"--help".PadRight(width)}Show this help.");
        if (command.Examples.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("Examples:");
            foreach (var example in command.Examples)
            {
                writer.WriteLine("  " + example);
            }
        }
    }

    /// <summary>Every argument error, one per line, then where to find help.</summary>
    public static void WriteErrors(TextWriter writer, CommandSpec command, IReadOnlyCollection<string> errors)
    {
        writer.WriteLine($"{command.Name}: {errors.Count} argument error{(errors.Count == 1 ? string.Empty : "s")}:");
        foreach (var error in errors)
        {
            writer.WriteLine("  - " + error);
        }

        writer.WriteLine($"Run '{command.Name} --help' for usage. Nothing was sent.");
    }
}
