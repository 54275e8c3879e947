using Google.Protobuf;
using Grpc.Core;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>
/// Passes a generated <c>BindService</c> through to grpc-dotnet's binder, swapping each method's request deserializer
/// for one that answers bytes which are not the request message with INVALID_ARGUMENT. grpc-dotnet parses the request
/// before any handler or interceptor runs, and reports a parse failure as UNKNOWN ("Exception was thrown by handler")
/// with an error log; the caller sent the bad bytes, so the status and the log level should say so.
/// </summary>
public sealed class RequestValidatingServiceBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Validating(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Validating(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Validating(method), handler);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Validating(method), handler);

    private static Method<TRequest, TResponse> Validating<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var deserialize = method.RequestMarshaller.ContextualDeserializer;
        var what = $"{method.FullName} request ({typeof(TRequest).Name})";
        var requests = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, context =>
        {
            try
            {
                return deserialize(context);
            }
            catch (Exception ex) when (ex is InvalidProtocolBufferException or InvalidOperationException)
            {
                // Google.Protobuf throws InvalidOperationException, not its own exception, for some malformed input
                // ("SkipLastField cannot be called at the end of a stream": a field tag that ends the message early).
                throw new RpcException(new Status(StatusCode.InvalidArgument,
                    $"the message is not a valid {what}: {ClientText.Cut(ex.Message)}"));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requests, method.ResponseMarshaller);
    }
}
