namespace ServingStack.Gateway.Security;

/// <summary>Marks the proxied inference endpoints, whose refusals answer <c>{"error": ...}</c> (or a gRPC status).</summary>
public sealed class InferenceRouteMetadata;
