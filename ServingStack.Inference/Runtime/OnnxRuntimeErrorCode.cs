namespace ServingStack.Inference.Runtime;

/// <summary>
/// ONNX Runtime's status codes (<c>OrtErrorCode</c> in its C API, same numbers and the names its .NET binding uses).
/// The binding keeps its own copy of this enum internal, so <see cref="OnnxRuntimeErrors"/> reads the code back from
/// the exception.
/// </summary>
public enum OnnxRuntimeErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    ShapeInferenceNotRegistered = 11,
    RequirementNotRegistered = 12,
}
