namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>
/// Marks a gRPC service whose unary calls <see cref="GrpcUnaryCallMiddleware"/> prepares: the call's deadline is left to
/// the service (<see cref="GrpcCallDeadline"/>) and the request is read in full before the handler runs.
/// grpc-dotnet copies service attributes into each method's endpoint metadata, which is where the middleware looks.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class InferenceGrpcServiceAttribute : Attribute;
