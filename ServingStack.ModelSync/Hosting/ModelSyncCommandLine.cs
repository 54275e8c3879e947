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
