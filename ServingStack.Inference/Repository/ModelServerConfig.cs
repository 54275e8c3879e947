namespace ServingStack.Inference.Repository;

/// <summary>The models a server serves, read from <c>--model_config_file</c> or the <c>--model_name</c>/<c>--model_base_path</c> pair.</summary>
public sealed class ModelServerConfig
{
    public List<ModelConfig> Models { get; } = [];

    /// <summary>Where the models came from, for messages (a file path or "command line").</summary>
    public string Source { get; set; } = "command line";

    /// <summary>Problems found while reading the source; reported with the validation errors at start.</summary>
    public List<string> ReadErrors { get; } = [];
}
