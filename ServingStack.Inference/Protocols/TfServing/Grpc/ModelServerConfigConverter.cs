using System.Text.Json;
using Google.Protobuf;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Repository;
using ProtoModelServerConfig = Tensorflow.Serving.ModelServerConfig;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>
/// TF Serving's <see cref="ProtoModelServerConfig"/> (what HandleReloadConfigRequest carries) as the server's
/// <see cref="ModelServerConfig"/>. It goes through the config file's reader, as protobuf JSON with TF Serving's field
/// names, so a reload is read and checked exactly as a changed <c>--model_config_file</c> is.
/// </summary>
public static class ModelServerConfigConverter
{
    public const string Source = "HandleReloadConfigRequest";

    private static readonly JsonFormatter s_json = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));

    /// <summary>
    /// Reads <paramref name="proto"/>'s model list; problems land in <see cref="ModelServerConfig.ReadErrors"/>. TF
    /// Serving's config cannot say how a model runs (execution provider, batching): a model already served keeps its
    /// settings, a new one gets the server's defaults. Relative base paths resolve against the config file's folder when
    /// there is one (as the file's own paths do), else the working directory.
    /// </summary>
    public static ModelServerConfig Convert(ProtoModelServerConfig proto, ServingOptions options, ModelManager models)
    {
        var target = new ModelServerConfig { Source = Source };
        var batching = new BatchingOptions();
        if (!string.IsNullOrWhiteSpace(options.BatchingParametersFile))
        {
            BatchingOptionsReader.ReadFile(options.BatchingParametersFile, batching, target.ReadErrors);
        }

        batching.Enabled = options.EnableBatching;
        var baseDirectory = string.IsNullOrWhiteSpace(options.ModelConfigFile)
            ? Directory.GetCurrentDirectory()
            : Path.GetDirectoryName(Path.GetFullPath(options.ModelConfigFile))!;
        using (var document = JsonDocument.Parse(s_json.Format(proto)))
        {
            ModelConfigFileReader.Map(document.RootElement, baseDirectory, options.Execution, batching, target);
        }

        for (var i = 0; i < target.Models.Count; i++)
        {
            var read = target.Models[i];
            if (models.TryGetModel(read.Name, out var existing))
            {
                target.Models[i] = new ModelConfig
                {
                    Name = read.Name,
                    BasePath = read.BasePath,
                    Platform = read.Platform,
                    VersionPolicy = read.VersionPolicy,
                    VersionLabels = read.VersionLabels,
                    Execution = existing.Config.Execution,
                    Batching = existing.Config.Batching,
                };
            }
        }

        return target;
    }
}
