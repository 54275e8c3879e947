namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A start refused for its configuration (a command line, a file, an environment variable), with every problem found.
/// <see cref="StartupFailures"/> prints it without a stack trace.
/// </summary>
public sealed class ConfigurationProblemsException : Exception
{
    public ConfigurationProblemsException(IReadOnlyList<string> problems, string? usage = null)
        : base(string.Join(Environment.NewLine, problems ?? []))
    {
        ArgumentNullException.ThrowIfNull(problems);
        Problems = problems;
        Usage = usage;
    }

    public ConfigurationProblemsException()
        : this([])
    {
    }

    public ConfigurationProblemsException(string message)
        : this([message])
    {
    }

    public ConfigurationProblemsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public IReadOnlyList<string> Problems { get; }

    /// <summary>Printed after the problems (e.g. a command line's usage text).</summary>
    public string? Usage { get; }
}
