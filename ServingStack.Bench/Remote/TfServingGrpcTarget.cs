using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ServingStack.Bench.Load;
using Tensorflow.Serving;

namespace ServingStack.Bench.Remote;

/// <summary>
/// TF Serving's gRPC <c>tensorflow.serving.PredictionService/Predict</c> with a PredictRequest (from TF Serving's own
/// protos) serialized once and sent through a byte[] marshaller, like <see cref="GrpcTarget"/>: inputs as
/// <c>tensor_content</c> (raw bytes, TF Serving's fast path) or typed <c>*_val</c> fields.
/// </summary>
public sealed class TfServingGrpcTarget : IProbedTarget
{
    private const string Service = "tensorflow.serving.PredictionService";

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(static b => b, static b => b);

    private static readonly Method<byte[], byte[]> PredictBytes = new(MethodType.Unary, Service, "Predict", Bytes, Bytes);

    private static readonly Method<PredictRequest, PredictResponse> Predict = new(
        MethodType.Unary, Service, "Predict",
        Marshallers.Create(static (PredictRequest r) => r.ToByteArray(), PredictRequest.Parser.ParseFrom),
        Marshallers.Create(static (PredictResponse r) => r.ToByteArray(), PredictResponse.Parser.ParseFrom));

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly PredictRequest _request;
    private readonly byte[] _body;
    private readonly TimeSpan _timeout;

    public TfServingGrpcTarget(GrpcChannel channel, PredictRequest request, int rowsPerRequest, TimeSpan timeout)
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
        // No deadline, as in GrpcTarget: the runner's watchdog enforces --timeout.
        using var call = _invoker.AsyncUnaryCall(PredictBytes, null, new CallOptions(cancellationToken: cancellationToken), _body);
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
        try
        {
            var response = await _invoker.AsyncUnaryCall(Predict, null, new CallOptions(deadline: DateTime.UtcNow + _timeout, cancellationToken: cancellationToken), _request)
                .ResponseAsync.ConfigureAwait(false);
            if (response.Outputs.Count == 0)
            {
                return ProbeResult.Failed("Predict answered without outputs.");
            }

            return ProbeResult.Succeeded([.. response.Outputs.Select(o => OutputDecoder.FromTensorProto(o.Key, o.Value))]);
        }
        catch (RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return ProbeResult.Failed($"TF Serving gRPC Predict at {_channel.Target} failed: {ex.StatusCode} {ex.Status.Detail}");
        }
        catch (InvalidDataException ex)
        {
            return ProbeResult.Failed($"TF Serving gRPC Predict answered outputs the tool cannot read: {ex.Message}");
        }
    }
}
