namespace ServingStack.Inference.Hosting;

/// <summary>
/// The tensorflow/serving image's convention: its entrypoint runs
/// <c>tensorflow_model_server --model_name=${MODEL_NAME} --model_base_path=${MODEL_BASE_PATH}/${MODEL_NAME} "$@"</c> with
/// <c>MODEL_NAME=model</c> and <c>MODEL_BASE_PATH=/models</c> by default, so a Deployment written for that image
/// (setting only the environment) serves the same model here. Once either variable is set, the model is
/// <c>MODEL_NAME</c> from <c>$MODEL_BASE_PATH/$MODEL_NAME</c>. Flags and configuration win, as the image's "$@" does:
/// <c>--model_name</c> renames the model (the folder stays the environment's, as in the image), <c>--model_base_path</c>
/// replaces the folder, and a <c>--model_config_file</c> makes both variables irrelevant.
/// </summary>
public static class ModelEnvironment
{
    public const string ModelNameVariable = "MODEL_NAME";
    public const string ModelBasePathVariable = "MODEL_BASE_PATH";
    public const string DefaultModelName = "model";
    public const string DefaultModelBasePath = "/models";

    /// <summary>
    /// Adds the environment's model beneath what is already configured; returns a line describing what it chose, or
    /// null when it did nothing (neither variable set, or the configuration already names the models).
    /// </summary>
    public static string? Apply(IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var name = configuration[ModelNameVariable];
        var basePath = configuration[ModelBasePathVariable];
        if (name is null && basePath is null)
        {
            return null;
        }

        if (!string.IsNullOrWhiteSpace(configuration["Serving:ModelConfigFile"]) || !string.IsNullOrWhiteSpace(configuration["Serving:ModelBasePath"]))
        {
            return null;
        }

        name = string.IsNullOrWhiteSpace(name) ? DefaultModelName : name;
        basePath = string.IsNullOrWhiteSpace(basePath) ? DefaultModelBasePath : basePath;
        var folder = Path.Join(basePath, name);
        var values = new Dictionary<string, string?>(StringComparer.Ordinal) { ["Serving:ModelBasePath"] = folder };
        var configuredName = configuration["Serving:ModelName"];
        if (configuredName is null)
        {
            values["Serving:ModelName"] = name;
        }

        configuration.AddInMemoryCollection(values);
        return $"serving model '{configuredName ?? name}' from {folder} ({ModelBasePathVariable}/{ModelNameVariable})";
    }
}
