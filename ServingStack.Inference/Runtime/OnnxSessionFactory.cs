using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// Creates sessions with the execution provider a model asks for. CUDA is tried first when asked for; when its libraries,
/// driver or device are missing the session is created on CPU, the reason is logged, and the model reports it.
/// </summary>
public sealed partial class OnnxSessionFactory(ILogger<OnnxSessionFactory> logger)
{
    public OnnxModelSession Create(string modelPath, ExecutionSettings settings, string modelName, long version)
    {
        Log.SessionOptions(logger, modelName, version, settings.EffectiveIntraOpThreads, settings.InterOpThreads, settings.AllowSpinning, settings.GraphOptimizationLevel);
        string? fallbackReason = null;
        if (string.Equals(settings.Provider, ExecutionSettings.Cuda, StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return new OnnxModelSession(CreateSession(modelPath, settings, useCuda: true), "CUDA", null);
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
            {
                fallbackReason = $"CUDA execution provider unavailable on device {settings.DeviceId}: {FirstLine(ex.Message)}";
                RuntimeLog.CudaFallback(logger, modelName, version, fallbackReason);
            }
        }

        return new OnnxModelSession(CreateSession(modelPath, settings, useCuda: false), "CPU", fallbackReason);
    }

    private static InferenceSession CreateSession(string modelPath, ExecutionSettings settings, bool useCuda)
    {
        var options = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            GraphOptimizationLevel = settings.GraphOptimizationLevel.ToLowerInvariant() switch
            {
                "disabled" => GraphOptimizationLevel.ORT_DISABLE_ALL,
                "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
        };
        try
        {
            if (settings.EffectiveIntraOpThreads > 0)
            {
                options.IntraOpNumThreads = settings.EffectiveIntraOpThreads;
            }

            if (settings.InterOpThreads > 0)
            {
                options.InterOpNumThreads = settings.InterOpThreads;
                options.ExecutionMode = ExecutionMode.ORT_PARALLEL;
            }

            var spin = settings.AllowSpinning ? "1" : "0";
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
            options.AddSessionConfigEntry("session.inter_op.allow_spinning", spin);

            if (useCuda)
            {
                options.AppendExecutionProvider_CUDA(settings.DeviceId);
            }

            return new InferenceSession(modelPath, options);
        }
        finally
        {
            // The session keeps its own copy of the options.
            options.Dispose();
        }
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? message : message[..end]).Trim();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 101, EventName = "SessionOptions", Level = LogLevel.Information,
            Message = "Model {Model} version {Version}: ONNX Runtime session with intra-op threads {IntraOpThreads}, inter-op threads {InterOpThreads} (0: ONNX Runtime's default), spinning {AllowSpinning}, graph optimization {GraphOptimizationLevel}")]
        public static partial void SessionOptions(ILogger logger, string model, long version, int intraOpThreads, int interOpThreads, bool allowSpinning, string graphOptimizationLevel);
    }
}
