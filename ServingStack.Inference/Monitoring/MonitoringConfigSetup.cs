using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;

namespace ServingStack.Inference.Monitoring;

/// <summary>
/// Fills <see cref="MonitoringConfig"/> from the file <c>--monitoring_config_file</c> names. Reads the key straight from
/// configuration rather than through <see cref="ServingOptions"/>, so a problem there is reported once, by its own validator.
/// </summary>
public sealed class MonitoringConfigSetup(IConfiguration configuration) : IConfigureOptions<MonitoringConfig>
{
    public const string FileKey = ServingOptions.SectionName + ":" + nameof(ServingOptions.MonitoringConfigFile);

    public void Configure(MonitoringConfig options)
    {
        var file = configuration[FileKey];
        if (!string.IsNullOrWhiteSpace(file))
        {
            MonitoringConfigReader.Read(file, options);
        }
    }
}
