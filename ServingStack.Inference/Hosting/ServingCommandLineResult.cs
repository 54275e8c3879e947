namespace ServingStack.Inference.Hosting;

/// <summary>What a tensorflow_model_server command line asks for, or everything wrong with it.</summary>
public sealed class ServingCommandLineResult
{
    /// <summary>Configuration keys and values, in order (a later value for the same key wins).</summary>
    public List<KeyValuePair<string, string?>> Settings { get; } = [];

    /// <summary>Arguments for the .NET host itself (<c>--environment=NAME</c>).</summary>
    public List<string> HostArgs { get; } = [];

    /// <summary>One line per ignored flag that was given: the flag and why it has no effect here.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Every problem: unknown flags, missing or malformed values, unexpected arguments.</summary>
    public List<string> Errors { get; } = [];

    public bool ShowHelp { get; set; }

    public bool ShowVersion { get; set; }
}
