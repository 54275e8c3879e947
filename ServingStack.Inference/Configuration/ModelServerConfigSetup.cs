using Microsoft.Extensions.Options;
using ServingStack.Inference.Repository;

namespace ServingStack.Inference.Configuration;

/// <summary>Fills <see cref="ModelServerConfig"/> from the config file, or from the single model the flags name.</summary>
public sealed class ModelServerConfigSetup(IOptions<ServingOptions> serving) : IConfigureOptions<ModelServerConfig>
{
    public void Configure(ModelServerConfig options)
    {
        var s = serving.Value;
        if (!string.IsNullOrWhiteSpace(s.ModelConfigFile))
        {
            ModelConfigFileReader.Read(s.ModelConfigFile, s.Execution, options);
        }
        else if (!string.IsNullOrWhiteSpace(s.ModelBasePath))
        {
            options.Source = "--model_base_path";
            options.Models.Add(new ModelConfig
            {
                Name = s.ModelName,
                BasePath = Path.GetFullPath(s.ModelBasePath),
                Execution = s.Execution.Clone(),
            });
        }
    }
}
