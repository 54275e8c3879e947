using Microsoft.Extensions.Logging;

namespace ServingStack.Inference.Runtime;

internal static partial class RuntimeLog
{
    [LoggerMessage(EventId = 100, EventName = "CudaFallback", Level = LogLevel.Warning,
        Message = "Model {Model} version {Version} asked for CUDA but runs on CPU: {Reason}")]
    public static partial void CudaFallback(ILogger logger, string model, long version, string reason);
}
