namespace ServingStack.Bench.Cli;

/// <summary>A command's name, summary, options and examples, from which its <c>--help</c> is written.</summary>
public sealed record CommandSpec(string Name, string Summary, IReadOnlyList<OptionSpec> Options, IReadOnlyList<string> Examples)
{
    public OptionSpec? Find(string name) => Options.FirstOrDefault(o => string.Equals(o.Name, name, StringComparison.Ordinal));
}
