using ServingStack.Inference.Batching;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>One served model: where its versions live and how they are chosen and run.</summary>
public sealed class ModelConfig
{
    public required string Name { get; init; }

    /// <summary>Absolute folder holding numeric version folders, each with a <c>model.onnx</c>.</summary>
    public required string BasePath { get; init; }

    /// <summary><c>onnx</c> (alias <c>onnxruntime_onnx</c>); <c>tensorflow</c> is accepted so TF Serving configs load, but
    /// the folders must still hold ONNX files.</summary>
    public string Platform { get; init; } = "onnx";

    public ModelVersionPolicy VersionPolicy { get; init; } = ModelVersionPolicy.Default;

    public IReadOnlyDictionary<string, long> VersionLabels { get; init; } = new Dictionary<string, long>();

    public ExecutionSettings Execution { get; init; } = new();

    public BatchingOptions Batching { get; init; } = new();
}
