namespace ServingStack.Inference.Hosting;

/// <summary>One command-line flag: its name, value type, what it sets (or why it has no effect) and its help line.</summary>
/// <param name="Name">Without the leading <c>--</c>.</param>
/// <param name="ConfigurationKey">The key the value is written to; null for flags handled by the command line itself.</param>
/// <param name="Default">The default as shown in the usage text.</param>
/// <param name="Help">The usage line; for an ignored flag, why it has no effect here.</param>
public sealed record ServingFlag(string Name, FlagValueKind Kind, FlagTreatment Treatment, string? ConfigurationKey, string Default, string Help);
