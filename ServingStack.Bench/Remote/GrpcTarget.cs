using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ServingStack.Bench.Load;
using ServingStack.Inference.Protocols.OpenInference.Grpc;

namespace ServingStack.Bench.Remote;

/// <summary>
/// Calls ModelInfer with a request serialized once: the call goes through a byte[] marshaller, so neither the request
/// nor the response is (de)serialized on the hot path. Typed or raw contents are decided when the bytes are made.
/// </summary>
public sealed class GrpcTarget : IProbedTarget
{
    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static b => b, static b => b);

    private static readonly Method<byte[], byte[]> ModelInfer = new(
        MethodType.Unary, "inference.GRPCInferenceService", "ModelInfer", Bytes, Bytes);

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly ModelInferRequest _request;
    private readonly byte[] _body;
    private readonly TimeSpan _timeout;

    public GrpcTarget(GrpcChannel channel, ModelInferRequest request, int rowsPerRequest, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(request);
        _channel = channel;
        _invoker = channel.CreateCallInvoker();
        _request = request;
        _body = request.ToByteArray();
        _timeout = timeout;
        RowsPerRequest = rowsPerRequest;
    }

    public int RowsPerRequest { get; }

    public bool RunsSynchronously => false;

    public int BodyBytes => _body.Length;

    public async ValueTask<RequestOutcome> SendAsync(int worker, CancellationToken cancellationToken)
    {
        // No deadline: the runner's watchdog enforces --timeout through the token, so the server sees no grpc-timeout.
        using var call = _invoker.AsyncUnaryCall(ModelInfer, null, new CallOptions(cancellationToken: cancellationToken), _body);
        try
        {
            await call.ResponseAsync.ConfigureAwait(false);
            return RequestOutcome.Success;
        }
        catch (RpcException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException ex)
        {
            return RequestOutcome.Failed($"gRPC {ex.StatusCode}");
        }
    }

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(_channel);
        try
        {
            var response = await client.ModelInferAsync(_request, deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken)
                .ResponseAsync.ConfigureAwait(false);
            if (response.Outputs.Count == 0)
            {
                return ProbeResult.Failed("ModelInfer answered without outputs.");
            }

            var outputs = new DecodedTensor[response.Outputs.Count];
            for (var i = 0; i < outputs.Length; i++)
            {
                outputs[i] = OutputDecoder.FromModelInfer(response, i);
            }

            return ProbeResult.Succeeded(outputs);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return ProbeResult.Failed($"gRPC ModelInfer at {_channel.Target} failed: {ex.StatusCode} {ex.Status.Detail}");
        }
        catch (InvalidDataException ex)
        {
            return ProbeResult.Failed($"gRPC ModelInfer answered outputs the tool cannot read: {ex.Message}");
        }
    }
}
