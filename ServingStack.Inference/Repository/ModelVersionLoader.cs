using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>Turns a version folder into a warmed-up session, or a clear reason why not.</summary>
public sealed class ModelVersionLoader(OnnxSessionFactory sessions)
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

        try
        {
            SessionWarmup.Run(session);
            return session;
        }
        catch (Exception ex)
        {
            session.Dispose();
            throw new ModelLoadException($"warm-up inference of '{file}' failed: {ex.Message}", ex);
        }
    }
}
