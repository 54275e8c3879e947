using Microsoft.Extensions.Options;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Repository;

namespace ServingStack.Inference.Configuration;

/// <summary>Fills <see cref="ModelServerConfig"/> from the config file, or from the single model the flags name.</summary>
public sealed class ModelServerConfigSetup(IOptions<ServingOptions> serving) : IConfigureOptions<ModelServerConfig>
{
    public void Configure(ModelServerConfig options)
    {
        var s = serving.Value;
        var batching = new BatchingOptions();
        if (!string.IsNullOrWhiteSpace(s.BatchingParametersFile))
        {
            BatchingOptionsReader.ReadFile(s.BatchingParametersFile, batching, options.ReadErrors);
        }

        // --enable_batching decides the default; a model's own batching block can still turn it on or off.
        batching.Enabled = s.EnableBatching;
        if (!string.IsNullOrWhiteSpace(s.ModelConfigFile))
        {
            ModelConfigFileReader.Read(s.ModelConfigFile, s.Execution, batching, options);
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
