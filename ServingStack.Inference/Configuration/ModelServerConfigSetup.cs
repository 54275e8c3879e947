using Microsoft.Extensions.Options;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Repository;

namespace ServingStack.Inference.Configuration;

/// <summary>
/// Fills <see cref="ModelServerConfig"/> from the config file, the <c>Serving:ModelConfigList</c> section (environment), or
/// the single model the flags name; batching defaults from the parameters file or the <c>Serving:BatchingParameters</c> section.
/// </summary>
public sealed class ModelServerConfigSetup(IOptions<ServingOptions> serving, IConfiguration configuration) : IConfigureOptions<ModelServerConfig>
{
    public void Configure(ModelServerConfig options)
    {
        var s = serving.Value;
        var batching = new BatchingOptions();
        if (!string.IsNullOrWhiteSpace(s.BatchingParametersFile))
        {
            BatchingOptionsReader.ReadFile(s.BatchingParametersFile, batching, options.ReadErrors);
        }
        else if (configuration.GetSection(ServingOptions.BatchingParametersSection) is { } parameters && parameters.Exists())
        {
            using var document = ConfigurationSectionJson.ToDocument(parameters);
            BatchingOptionsReader.Apply(document.RootElement, ServingOptions.BatchingParametersSection, batching, options.ReadErrors);
        }

        // --enable_batching decides the default; a model's own batching block can still turn it on or off.
        batching.Enabled = s.EnableBatching;
        if (!string.IsNullOrWhiteSpace(s.ModelConfigFile))
        {
            ModelConfigFileReader.Read(s.ModelConfigFile, s.Execution, batching, options);
        }
        else if (configuration.GetSection(ServingOptions.ModelConfigListSection) is { } list && list.Exists())
        {
            options.Source = ServingOptions.ModelConfigListSection;
            using var document = ConfigurationSectionJson.ToDocument(list, wrapIn: "model_config_list");
            // Relative base paths resolve against the working directory, as --model_base_path does.
            ModelConfigFileReader.Map(document.RootElement, Directory.GetCurrentDirectory(), s.Execution, batching, options);
        }
        else if (!string.IsNullOrWhiteSpace(s.ModelBasePath))
        {
            options.Source = "--model_base_path";
            options.Models.Add(new ModelConfig
            {
                Name = s.ModelName,
                BasePath = Path.GetFullPath(s.ModelBasePath),
                Execution = s.Execution.Clone(),
                Batching = batching,
            });
        }
    }
}
