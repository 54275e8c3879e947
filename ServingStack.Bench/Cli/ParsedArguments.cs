namespace ServingStack.Bench.Cli;

/// <summary>
/// The raw option values of one command line, split as <c>--name value</c>, <c>--name=value</c> or <c>--flag</c>.
/// Unknown options, missing values, repeats and stray words are collected in <see cref="Errors"/>; nothing throws,
/// so a user sees every mistake at once.
/// </summary>
public sealed class ParsedArguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    private ParsedArguments(CommandSpec command) => Command = command;

    public CommandSpec Command { get; }

    public bool HelpRequested { get; private set; }

    /// <summary>Every problem found while parsing and binding, in the order found.</summary>
    public List<string> Errors { get; } = [];

    public static ParsedArguments Parse(CommandSpec command, IReadOnlyList<string> args)
    {
        var parsed = new ParsedArguments(command);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                parsed.HelpRequested = true;
                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                parsed.Errors.Add($"Unexpected argument '{arg}': options start with '--' (see '{command.Name} --help').");
                continue;
            }

            var name = arg[2..];
            string? inlineValue = null;
            var equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }

            // Accept --rest_format as well as --rest-format, as tensorflow_model_server's flags use underscores.
            name = name.Replace('_', '-');
            var spec = command.Find(name);
            if (spec is null)
            {
                parsed.Errors.Add($"Unknown option '--{name}' for '{command.Name}' (see '{command.Name} --help').");
                if (inlineValue is null && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    i++; // Skip its value, so it is not reported again as a stray word.
                }

                continue;
            }

            string? value;
            if (spec.IsFlag)
            {
                value = inlineValue ?? "true";
            }
            else if (inlineValue is not null)
            {
                value = inlineValue;
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                parsed.Errors.Add($"Option '--{name}' needs a value ({spec.ValueName}).");
                continue;
            }

            if (!parsed._values.TryAdd(name, value))
            {
                parsed.Errors.Add($"Option '--{name}' is given more than once.");
            }
        }

        return parsed;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value : null;

    /// <summary>The value of a required option, or null with an error recorded when it is missing or empty.</summary>
    public string? Require(string name)
    {
        var value = Get(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            Errors.Add($"Option '--{name}' is required.");
            return null;
        }

        return value;
    }

    public bool Flag(string name)
    {
        var value = Get(name);
        if (value is null)
        {
            return false;
        }

        if (bool.TryParse(value, out var flag))
        {
            return flag;
        }

        Errors.Add($"Option '--{name}' takes no value or true/false, not '{value}'.");
        return false;
    }

    public int Int(string name, int defaultValue, int min, int max)
    {
        var value = Get(name);
        if (value is null)
        {
            return defaultValue;
        }

        if (!ValueParsers.TryParseInt(value, out var result) || result < min || result > max)
        {
            Errors.Add($"Option '--{name}' must be a whole number from {min} to {max}, not '{value}'.");
            return defaultValue;
        }

        return result;
    }

    public long Long(string name, long defaultValue, long min, long max)
    {
        var value = Get(name);
        if (value is null)
        {
            return defaultValue;
        }

        if (!ValueParsers.TryParseLong(value, out var result) || result < min || result > max)
        {
            Errors.Add($"Option '--{name}' must be a whole number from {min} to {max}, not '{value}'.");
            return defaultValue;
        }

        return result;
    }

    public IReadOnlyList<int> IntList(string name, string defaultValue, int min, int max)
    {
        var value = Get(name) ?? defaultValue;
        if (!ValueParsers.TryParseIntList(value, out var list) || list.Any(v => v < min || v > max))
        {
            Errors.Add($"Option '--{name}' must be a comma-separated list of whole numbers from {min} to {max}, not '{value}'.");
            return [];
        }

        return list;
    }

    public TimeSpan Duration(string name, TimeSpan defaultValue, TimeSpan min, TimeSpan max)
    {
        var value = Get(name);
        if (value is null)
        {
            return defaultValue;
        }

        if (!ValueParsers.TryParseDuration(value, out var result) || result < min || result > max)
        {
            Errors.Add($"Option '--{name}' must be a duration from {ValueParsers.Format(min)} to {ValueParsers.Format(max)} " +
                $"such as 500ms, 10s, 2m or 1.5 (seconds), not '{value}'.");
            return defaultValue;
        }

        return result;
    }

    public T Choice<T>(string name, T defaultValue, IReadOnlyDictionary<string, T> choices)
    {
        var value = Get(name);
        if (value is null)
        {
            return defaultValue;
        }

        if (choices.TryGetValue(value.ToLowerInvariant(), out var result))
        {
            return result;
        }

        Errors.Add($"Option '--{name}' must be one of {string.Join(", ", choices.Keys)}, not '{value}'.");
        return defaultValue;
    }
}
