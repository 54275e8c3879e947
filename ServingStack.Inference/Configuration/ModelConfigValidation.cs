using System.Text.RegularExpressions;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Configuration;

/// <summary>Rules shared by the server options and the model config validators.</summary>
internal static partial class ModelConfigValidation
{
    [GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial Regex ModelNamePattern();

    [GeneratedRegex("^[A-Za-z0-9_]+$")]
    private static partial Regex LabelPattern();

    public static bool IsValidModelName(string? name) => !string.IsNullOrEmpty(name) && ModelNamePattern().IsMatch(name);

    public static bool IsValidLabel(string? label) => !string.IsNullOrEmpty(label) && LabelPattern().IsMatch(label);

    public static void ValidateExecution(string where, ExecutionSettings execution, List<string> errors)
    {
        if (!string.Equals(execution.Provider, ExecutionSettings.Cpu, StringComparison.OrdinalIgnoreCase) &&
            !string.Equals(execution.Provider, ExecutionSettings.Cuda, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"{where}: provider must be 'cpu' or 'cuda', not '{execution.Provider}'.");
        }

        if (execution.DeviceId < 0)
        {
            errors.Add($"{where}: device_id must be >= 0, not {execution.DeviceId}.");
        }

        if (execution.IntraOpThreads < 0 || execution.InterOpThreads < 0)
        {
            errors.Add($"{where}: thread counts must be >= 0 (0 lets ONNX Runtime choose).");
        }

        if (execution.GraphOptimizationLevel.ToLowerInvariant() is not ("disabled" or "basic" or "extended" or "all"))
        {
            errors.Add($"{where}: graph_optimization_level must be disabled, basic, extended or all, not '{execution.GraphOptimizationLevel}'.");
        }
    }
}
