using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols.Grpc;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using Tensorflow.Serving;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>
/// TF Serving's <c>tensorflow.serving.PredictionService</c>, for clients generated from <c>tensorflow_serving/apis</c>:
/// Predict and GetModelMetadata as TF Serving answers them, over the same model handling as REST. Classify, Regress and
/// MultiInference take tf.Example inputs, which ONNX models have no signature for: UNIMPLEMENTED, as on REST.
/// Errors carry TF Serving's status codes and the REST messages.
/// </summary>
[InferenceGrpcService]
[BindServiceMethod(typeof(TfServingPredictionService), nameof(BindService))]
public sealed partial class TfServingPredictionService(
    ModelManager models, IOptions<ServingOptions> options, ServingMetrics metrics, TimeProvider time, ILogger<TfServingPredictionService> logger)
    : PredictionService.PredictionServiceBase
{
    /// <summary>The <c>protocol</c> tag of <c>servingstack_requests_total</c> for these calls.</summary>
    public const string Protocol = "tfserving_grpc";

    /// <summary>Why Classify, Regress and MultiInference are not served; REST's :classify and :regress say the same.</summary>
    public const string TfExampleNotServed = "takes tf.Example inputs, which ONNX models have no signature for; use Predict";

    /// <summary>
    /// How grpc-dotnet binds this service (named by the attribute above): the generated binding, with requests parsed
    /// so that bytes which are not a request message answer INVALID_ARGUMENT.
    /// </summary>
    public static void BindService(ServiceBinderBase binder, PredictionService.PredictionServiceBase service) =>
        PredictionService.BindService(new RequestValidatingServiceBinder(binder), service);

    public override Task<ClassificationResponse> Classify(ClassificationRequest request, ServerCallContext context) =>
        throw Unimplemented($"Classify {TfExampleNotServed}");

    public override Task<RegressionResponse> Regress(RegressionRequest request, ServerCallContext context) =>
        throw Unimplemented($"Regress {TfExampleNotServed}");

    public override Task<MultiInferenceResponse> MultiInference(MultiInferenceRequest request, ServerCallContext context) =>
        throw Unimplemented($"MultiInference runs Classify and Regress tasks, which take tf.Example inputs ONNX models have no signature for; use Predict");

    public override async Task<PredictResponse> Predict(PredictRequest request, ServerCallContext context)
    {
        var started = time.GetTimestamp();
        var code = ServingErrorCode.Unknown;
        ModelVersion? version = null;
        var inputs = new List<InferenceTensor>(request.Inputs.Count);
        InferenceTensor[]? outputs = null;
        try
        {
            version = TfServingModelSpec.Acquire(models, request.ModelSpec, out var error);
            List<string>? filter = null;
            if (version is not null)
            {
                error = TfServingModelSpec.CheckSignature(request.ModelSpec)
                    ?? ReadOutputFilter(request, out filter)
                    ?? TensorProtoConverter.ReadInputs(request.Inputs, inputs, options.Value.MaxRequestBodyBytes)
                    ?? GrpcInference.CheckNames(version.Session, request.Inputs.Keys, filter);
            }

            if (error is null)
            {
                (outputs, error) = await GrpcInference.InvokeAsync(version!, inputs, filter, GrpcCallDeadline.Of(context), time, context.CancellationToken);
            }

            if (error is not null)
            {
                code = error.Code;
                if (GrpcErrors.IsAbandoned(error))
                {
                    Log.PredictAbandoned(logger, ClientText.Cut(request.ModelSpec?.Name), error.Code.ToStatusName());
                    return GrpcErrors.EndAbandoned<PredictResponse>(context, error);
                }

                throw GrpcErrors.ToRpcException(error);
            }

            // TF Serving echoes the spec that served: the model, the version that answered, the signature used.
            var response = new PredictResponse
            {
                ModelSpec = new ModelSpec { Name = version!.ModelName, Version = version.Version, SignatureName = TfServingMetadata.DefaultSignature },
            };
            foreach (var output in outputs!)
            {
                response.Outputs.Add(output.Name, TensorProtoConverter.Write(output));
            }

            code = ServingErrorCode.Ok;
            return response;
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            // Our bug, not the client's: log it, and answer INTERNAL without the details (EnableDetailedErrors is off).
            Log.PredictFailed(logger, ClientText.Cut(request.ModelSpec?.Name), ex);
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
            var name = request.ModelSpec?.Name ?? string.Empty;
            var modelTag = version?.ModelName ?? (models.TryGetModel(name, out var known) ? known.Name : string.Empty);
            var versionTag = version?.Version.ToString(CultureInfo.InvariantCulture) ?? string.Empty;
            version?.Release();
            metrics.RecordRequest(modelTag, versionTag, Protocol, code.ToStatusName(), time.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// TF Serving's metadata: <c>metadata_field</c> lists the entries wanted, <c>signature_def</c> (TF Serving's) and
    /// <c>execution</c> (ours; see <see cref="TfServingMetadata"/>). The spec's version or label picks the version.
    /// </summary>
    public override Task<GetModelMetadataResponse> GetModelMetadata(GetModelMetadataRequest request, ServerCallContext context)
    {
        if (request.ModelSpec is null)
        {
            throw GrpcErrors.ToRpcException(ServingError.InvalidArgument("Missing ModelSpec"));
        }

        if (request.MetadataField.Count == 0)
        {
            throw GrpcErrors.ToRpcException(ServingError.InvalidArgument(
                $"GetModelMetadataRequest must specify at least one metadata_field ({SupportedFields})"));
        }

        var signatureDef = false;
        var execution = false;
        foreach (var field in request.MetadataField)
        {
            switch (field)
            {
                case TfServingMetadata.SignatureDefField:
                    signatureDef = true;
                    break;
                case TfServingMetadata.ExecutionField:
                    execution = true;
                    break;
                default:
                    throw GrpcErrors.ToRpcException(ServingError.InvalidArgument($"Metadata field {ClientText.Cut(field)} is not supported ({SupportedFields})"));
            }
        }

        var version = TfServingModelSpec.Acquire(models, request.ModelSpec, out var error) ?? throw GrpcErrors.ToRpcException(error!);
        try
        {
            var requested = models.TryGetModel(version.ModelName, out var model) ? model.Config.Execution : null;
            return Task.FromResult(TfServingMetadata.Build(version, requested, signatureDef, execution));
        }
        finally
        {
            version.Release();
        }
    }

    private const string SupportedFields = $"supported: {TfServingMetadata.SignatureDefField}, {TfServingMetadata.ExecutionField}";

    /// <summary>The outputs asked for, in order; null for all. Each may be named once (TF Serving's rule).</summary>
    private static ServingError? ReadOutputFilter(PredictRequest request, out List<string>? filter)
    {
        filter = null;
        if (request.OutputFilter.Count == 0)
        {
            return null;
        }

        filter = new List<string>(request.OutputFilter.Count);
        foreach (var name in request.OutputFilter)
        {
            if (filter.Contains(name))
            {
                return ServingError.InvalidArgument($"duplicate output tensor alias: {ClientText.Cut(name)}");
            }

            filter.Add(name);
        }

        return null;
    }

    private static RpcException Unimplemented(string message) =>
        GrpcErrors.ToRpcException(new ServingError(ServingErrorCode.Unimplemented, message));

    private static partial class Log
    {
        [LoggerMessage(EventId = 220, EventName = "TfServingPredictFailed", Level = LogLevel.Error,
            Message = "TF Serving gRPC Predict for model {Model} failed unexpectedly")]
        public static partial void PredictFailed(ILogger logger, string model, Exception exception);

        [LoggerMessage(EventId = 221, EventName = "TfServingPredictAbandoned", Level = LogLevel.Debug,
            Message = "TF Serving gRPC Predict for model {Model} ended {Status}: the client gave up")]
        public static partial void PredictAbandoned(ILogger logger, string model, string status);
    }
}
