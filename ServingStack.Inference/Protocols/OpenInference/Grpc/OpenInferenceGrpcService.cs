using System.Globalization;
using Grpc.Core;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols.Grpc;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.OpenInference.Grpc;

/// <summary>
/// The Open Inference Protocol (KServe v2) over gRPC: the same health, metadata and inference as <c>/v2</c> REST, with
/// tensors as typed contents or raw bytes. Errors are <see cref="RpcException"/>s whose status code is the
/// <see cref="ServingError"/>'s (the numbers are gRPC's) and whose message is the same text REST returns.
/// </summary>
/// <remarks>Not named GrpcInferenceService: that differs from the generated <c>GRPCInferenceService</c> only by case (CA1708).</remarks>
[InferenceGrpcService]
[BindServiceMethod(typeof(OpenInferenceGrpcService), nameof(BindService))]
public sealed partial class OpenInferenceGrpcService(ModelManager models, ServingMetrics metrics, TimeProvider time, ILogger<OpenInferenceGrpcService> logger)
    : GRPCInferenceService.GRPCInferenceServiceBase
{
    private const string Protocol = "grpc";
    private const string Platform = "onnxruntime_onnx";

    /// <summary>
    /// How grpc-dotnet binds this service (named by the attribute above): the generated binding, with requests parsed
    /// so that bytes which are not a request message answer INVALID_ARGUMENT.
    /// </summary>
    public static void BindService(ServiceBinderBase binder, GRPCInferenceService.GRPCInferenceServiceBase service) =>
        GRPCInferenceService.BindService(new RequestValidatingServiceBinder(binder), service);

    public override Task<ServerLiveResponse> ServerLive(ServerLiveRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerLiveResponse { Live = true });

    public override Task<ServerReadyResponse> ServerReady(ServerReadyRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerReadyResponse { Ready = models.IsReady });

    public override Task<ServerMetadataResponse> ServerMetadata(ServerMetadataRequest request, ServerCallContext context) =>
        Task.FromResult(new ServerMetadataResponse
        {
            Name = OpenInferenceEndpoints.ServerName,
            Version = typeof(OpenInferenceGrpcService).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        });

    /// <summary>As REST: an unknown model or version is NOT_FOUND; a known one that cannot answer yet is <c>ready: false</c>.</summary>
    public override Task<ModelReadyResponse> ModelReady(ModelReadyRequest request, ServerCallContext context)
    {
        var version = ModelAcquisition.Acquire(models, request.Name, request.Version, "version", out var error);
        if (version is null && error!.Code is ServingErrorCode.NotFound or ServingErrorCode.InvalidArgument)
        {
            throw GrpcErrors.ToRpcException(error);
        }

        version?.Release();
        return Task.FromResult(new ModelReadyResponse { Ready = version is not null });
    }

    public override Task<ModelMetadataResponse> ModelMetadata(ModelMetadataRequest request, ServerCallContext context)
    {
        var version = ModelAcquisition.Acquire(models, request.Name, request.Version, "version", out var error) ?? throw GrpcErrors.ToRpcException(error!);
        try
        {
            var response = new ModelMetadataResponse { Name = version.ModelName, Platform = Platform };
            if (models.TryGetModel(version.ModelName, out var model))
            {
                foreach (var v in model.Versions)
                {
                    if (v.State == ModelVersionState.Available)
                    {
                        response.Versions.Add(v.Version.ToString(CultureInfo.InvariantCulture));
                    }
                }
            }

            AddSpecs(response.Inputs, version.Session.Inputs);
            AddSpecs(response.Outputs, version.Session.Outputs);
            return Task.FromResult(response);
        }
        finally
        {
            version.Release();
        }
    }

    public override async Task<ModelInferResponse> ModelInfer(ModelInferRequest request, ServerCallContext context)
    {
        var started = time.GetTimestamp();
        var code = ServingErrorCode.Unknown;
        ModelVersion? version = null;
        var inputs = new List<InferenceTensor>(request.Inputs.Count);
        InferenceTensor[]? outputs = null;
        try
        {
            version = ModelAcquisition.Acquire(models, request.ModelName, request.ModelVersion, "model_version", out var error);
            var raw = false;
            var requested = RequestedOutputs(request);
            if (version is not null)
            {
                error = GrpcTensorConverter.ReadInputs(request, inputs, out raw) ?? GrpcInference.CheckNames(version.Session, InputNames(request), requested);
            }

            if (error is null)
            {
                (outputs, error) = await GrpcInference.InvokeAsync(version!, inputs, requested, GrpcCallDeadline.Of(context), time, context.CancellationToken);
            }

            if (error is not null)
            {
                code = error.Code;
                if (GrpcErrors.IsAbandoned(error))
                {
                    Log.InferAbandoned(logger, ClientText.Cut(request.ModelName), error.Code.ToStatusName());
                    return GrpcErrors.EndAbandoned<ModelInferResponse>(context, error);
                }

                throw GrpcErrors.ToRpcException(error);
            }

            var response = new ModelInferResponse
            {
                ModelName = version!.ModelName,
                ModelVersion = version.Version.ToString(CultureInfo.InvariantCulture),
                Id = request.Id,
            };
            GrpcTensorConverter.WriteOutputs(response, outputs!, raw, context);
            code = ServingErrorCode.Ok;
            return response;
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            // Our bug, not the client's: log it, and answer INTERNAL without the details (EnableDetailedErrors is off).
            Log.InferFailed(logger, ClientText.Cut(request.ModelName), ex);
            code = ServingErrorCode.Internal;
            throw new RpcException(new Status(StatusCode.Internal, $"internal error: {ex.GetType().Name}"));
        }
        finally
        {
            if (outputs is not null)
            {
                foreach (var output in outputs)
                {
                    output.Dispose();
                }
            }

            foreach (var input in inputs)
            {
                input.Dispose();
            }

            // Tag only names the server knows, so a client sending made-up names cannot grow the number of series.
            var modelTag = version?.ModelName ?? (models.TryGetModel(request.ModelName, out var known) ? known.Name : string.Empty);
            var versionTag = version?.Version.ToString(CultureInfo.InvariantCulture) ?? string.Empty;
            version?.Release();
            metrics.RecordRequest(modelTag, versionTag, Protocol, code.ToStatusName(), time.GetElapsedTime(started));
        }
    }

    private static IEnumerable<string> InputNames(ModelInferRequest request)
    {
        foreach (var input in request.Inputs)
        {
            yield return input.Name;
        }
    }

    private static List<string>? RequestedOutputs(ModelInferRequest request)
    {
        if (request.Outputs.Count == 0)
        {
            return null;
        }

        var names = new List<string>(request.Outputs.Count);
        foreach (var output in request.Outputs)
        {
            names.Add(output.Name);
        }

        return names;
    }

    private static void AddSpecs(Google.Protobuf.Collections.RepeatedField<ModelMetadataResponse.Types.TensorMetadata> target, IReadOnlyList<TensorSpec> specs)
    {
        foreach (var spec in specs)
        {
            var metadata = new ModelMetadataResponse.Types.TensorMetadata { Name = spec.Name, Datatype = spec.DataType.ToOpenInferenceName() };
            metadata.Shape.Add(spec.Shape);
            target.Add(metadata);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 200, EventName = "GrpcInferFailed", Level = LogLevel.Error,
            Message = "Open Inference gRPC ModelInfer for model {Model} failed unexpectedly")]
        public static partial void InferFailed(ILogger logger, string model, Exception exception);

        [LoggerMessage(EventId = 201, EventName = "GrpcInferAbandoned", Level = LogLevel.Debug,
            Message = "Open Inference gRPC ModelInfer for model {Model} ended {Status}: the client gave up")]
        public static partial void InferAbandoned(ILogger logger, string model, string status);
    }
}
