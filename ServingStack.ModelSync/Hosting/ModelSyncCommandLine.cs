namespace ServingStack.ModelSync.Hosting;

/// <summary>The sidecar's flags, mapped onto the <c>ModelSync</c> configuration section.</summary>
public static class ModelSyncCommandLine
{
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--source"] = "ModelSync:Source",
        ["--target"] = "ModelSync:Target",
        ["--once"] = "ModelSync:Once",
        ["--interval"] = "ModelSync:Interval",
        ["--keep"] = "ModelSync:Keep",
        ["--s3-endpoint"] = "ModelSync:S3Endpoint",
    };

    // The .NET host's own switches, which the sidecar also accepts (--urls moves its health and metrics port).
    private static readonly HashSet<string> s_hostSwitches = new(StringComparer.OrdinalIgnoreCase) { "--environment", "--urls", "--applicationName", "--contentRoot" };

    /// <summary>
    /// Every problem with the arguments: an unknown flag (a typo would otherwise be ignored and its default used) or an
    /// argument that is not a flag's value. Flags are the mapped switches, the host's, and any <c>--Section:Key</c>.
    /// </summary>
    public static List<string> Check(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var problems = new List<string>();
        var normalized = Normalize(args);
        for (var i = 0; i < normalized.Length; i++)
        {
            var arg = normalized[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                problems.Add($"unexpected argument '{arg}': pass flags as --name=value or --name value");
                continue;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (!SwitchMappings.ContainsKey(name) && !s_hostSwitches.Contains(name) && !name.Contains(':', StringComparison.Ordinal))
            {
                problems.Add($"unknown flag {name}; the flags are {string.Join(", ", SwitchMappings.Keys)}");
            }

            if (equals < 0)
            {
                // --name value: the next argument is the value (as the configuration provider reads it).
                i++;
            }
        }

        return problems;
    }

    /// <summary>
    /// Lets <c>--once</c> stand alone: configuration's command line reads every <c>--key</c> as taking a value, so a bare
    /// switch would swallow the next argument. <c>--once</c> becomes <c>--once=true</c> unless a true/false follows.
    /// </summary>
    public static string[] Normalize(string[] args)
    {
        var result = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var next = i + 1 < args.Length ? args[i + 1] : null;
            if (arg == "--once" && !bool.TryParse(next, out _))
            {
                result.Add("--once=true");
            }
            else
            {
                result.Add(arg);
            }
        }

        return [.. result];
    }

    public static TBuilder AddModelSyncCommandLine<TBuilder>(this TBuilder builder, string[] args) where TBuilder : IHostApplicationBuilder
    {
        builder.Configuration.AddCommandLine(Normalize(args), (IDictionary<string, string>)SwitchMappings);
        return builder;
    }
}
