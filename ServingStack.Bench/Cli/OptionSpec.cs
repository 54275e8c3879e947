namespace ServingStack.Bench.Cli;

/// <summary>One command-line option: its name (without the leading dashes), whether it takes a value, and its help.</summary>
/// <param name="Name">The option's name, e.g. <c>concurrency</c> for <c>--concurrency</c>.</param>
/// <param name="ValueName">What the value looks like in help (e.g. <c>LIST</c>); null for a flag that takes none.</param>
/// <param name="Description">One line of help.</param>
/// <param name="Default">The default shown in help, or null when there is none (or it is required).</param>
public sealed record OptionSpec(string Name, string? ValueName, string Description, string? Default = null)
{
    public bool IsFlag => ValueName is null;

    public string Usage => IsFlag ? "--" + Name : $"--{Name} {ValueName}";
}
