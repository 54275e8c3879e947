using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>Turns a version folder into a warmed-up session (unless <c>--enable_model_warmup=false</c>), or a clear reason why not.</summary>
public sealed partial class ModelVersionLoader(OnnxSessionFactory sessions, IOptions<ServingOptions> options, ILogger<ModelVersionLoader> logger)
{
    public const string ModelFileName = "model.onnx";

    /// <summary>Loads and warms the version; throws <see cref="ModelLoadException"/> with a message for the status API.</summary>
    public OnnxModelSession Load(ModelConfig model, long version, string versionPath)
    {
        var file = System.IO.Path.Combine(versionPath, ModelFileName);
        if (!File.Exists(file))
        {
            if (File.Exists(System.IO.Path.Combine(versionPath, "saved_model.pb")) || File.Exists(System.IO.Path.Combine(versionPath, "saved_model.pbtxt")))
            {
                throw new ModelLoadException(
                    $"'{versionPath}' holds a TensorFlow SavedModel; ServingStack serves ONNX. Convert it (python -m tf2onnx.convert --saved-model {versionPath} --output {file}) and publish model.onnx.");
            }

            var found = Directory.Exists(versionPath) ? string.Join(", ", Directory.EnumerateFileSystemEntries(versionPath).Select(System.IO.Path.GetFileName)) : "folder missing";
            throw new ModelLoadException($"no {ModelFileName} in '{versionPath}' (found: {(found.Length == 0 ? "nothing" : found)})");
        }

        OnnxModelSession session;
        try
        {
            session = sessions.Create(file, model.Execution, model.Name, version);
        }
        catch (Exception ex) when (ex is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or NotSupportedException or IOException)
        {
            throw new ModelLoadException($"ONNX Runtime could not load '{file}': {ex.Message}", ex);
        }

        if (!options.Value.EnableModelWarmup)
        {
            Log.WarmupSkipped(logger, model.Name, version);
            return session;
        }

        try
        {
            SessionWarmup.Run(session, model.Batching);
            return session;
        }
        catch (Exception ex)
        {
            session.Dispose();
            throw new ModelLoadException($"warm-up inference of '{file}' failed: {ex.Message}", ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 31, EventName = "WarmupSkipped", Level = LogLevel.Information, Message = "Model {Model} version {Version}: no warm-up inference (--enable_model_warmup=false); its first request pays for ONNX Runtime's lazy initialisation")]
        public static partial void WarmupSkipped(ILogger logger, string model, long version);
    }
}
