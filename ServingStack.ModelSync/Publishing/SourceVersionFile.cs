using ServingStack.ModelSync.Sources;

namespace ServingStack.ModelSync.Publishing;

/// <summary>A listed file and its '/'-separated path inside its version folder (<c>model.onnx</c>, <c>assets/vocab.txt</c>).</summary>
public sealed record SourceVersionFile(SourceFile File, string RelativePath);
