namespace ServingStack.Bench.Options;

/// <summary>ONNX Runtime execution provider for <c>inproc</c>.</summary>
public enum ExecutionProvider
{
    Cpu,
    Cuda,
}
