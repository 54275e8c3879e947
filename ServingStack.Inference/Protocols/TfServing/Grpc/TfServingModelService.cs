using Grpc.Core;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Protocols.Grpc;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using Tensorflow.Error;
using Tensorflow.Serving;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>
/// TF Serving's <c>tensorflow.serving.ModelService</c>: GetModelStatus answers what REST's
/// <c>GET /v1/models/{m}[/versions/{v}|/labels/{l}]</c> answers; HandleReloadConfigRequest applies a new model config
/// list as a changed <c>--model_config_file</c> is applied, and needs the admin key (Serving:AdminApiKey), like the
/// repository API, because it changes what the server serves.
/// </summary>
[InferenceGrpcService]
[BindServiceMethod(typeof(TfServingModelService), nameof(BindService))]
public sealed partial class TfServingModelService(
    ModelManager models, IOptions<ServingOptions> options, TimeProvider time, ILogger<TfServingModelService> logger)
    : ModelService.ModelServiceBase
{
    /// <summary>The longest a reload waits for the models it adds to load (less when the call's deadline is nearer).</summary>
    public static readonly TimeSpan ReloadLoadTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How grpc-dotnet binds this service (named by the attribute above): the generated binding, with requests parsed
    /// so that bytes which are not a request message answer INVALID_ARGUMENT.
    /// </summary>
    public static void BindService(ServiceBinderBase binder, ModelService.ModelServiceBase service) =>
        ModelService.BindService(new RequestValidatingServiceBinder(binder), service);

    /// <summary>Every version of the model, newest first, or the one version (or label) the spec names.</summary>
    public override Task<GetModelStatusResponse> GetModelStatus(GetModelStatusRequest request, ServerCallContext context)
    {
        var spec = request.ModelSpec;
        var model = TfServingModelSpec.Find(models, spec, out var error) ?? throw GrpcErrors.ToRpcException(error!);
        long? wanted = spec.VersionChoiceCase == ModelSpec.VersionChoiceOneofCase.Version ? spec.Version : null;
        if (spec.VersionChoiceCase == ModelSpec.VersionChoiceOneofCase.VersionLabel)
        {
            // As REST: a label names the version its config points at, whatever state that version is in.
            if (!model.Config.VersionLabels.TryGetValue(spec.VersionLabel, out var labelled))
            {
                throw GrpcErrors.ToRpcException(TfServingModelSpec.CheckLabel(model, spec.VersionLabel)
                    ?? ServingError.NotFound($"model '{model.Name}' has no version label '{ClientText.Cut(spec.VersionLabel)}'"));
            }

            wanted = labelled;
        }

        var response = new GetModelStatusResponse();
        var versions = model.Versions;
        for (var i = versions.Count - 1; i >= 0; i--)
        {
            var version = versions[i];
            if (wanted is null || version.Version == wanted)
            {
                response.ModelVersionStatus.Add(new ModelVersionStatus
                {
                    Version = version.Version,
                    State = (ModelVersionStatus.Types.State)(int)version.State,
                    Status = new StatusProto
                    {
                        ErrorCode = version.Error is null ? Code.Ok : Code.Unknown,
                        ErrorMessage = version.Error ?? string.Empty,
                    },
                });
            }
        }

        if (response.ModelVersionStatus.Count == 0)
        {
            throw GrpcErrors.ToRpcException(ServingError.NotFound(wanted is null
                ? $"could not find any versions of model '{model.Name}' under '{model.Config.BasePath}'"
                : $"could not find version {wanted} of model '{model.Name}'"));
        }

        return Task.FromResult(response);
    }

    /// <summary>
    /// Replaces the served models with <c>config.model_config_list</c>, read and validated as the config file is (every
    /// problem reported at once, nothing applied); then waits, within the call's deadline, until the models it added
    /// have loaded. Models left out drain and unload.
    /// </summary>
    public override async Task<ReloadConfigResponse> HandleReloadConfigRequest(ReloadConfigRequest request, ServerCallContext context)
    {
        var serving = options.Value;
        var denied = GrpcAdminKey.Authorize(context, serving.AdminApiKey, "HandleReloadConfigRequest");
        if (denied is not null)
        {
            throw GrpcErrors.ToRpcException(denied);
        }

        if (request.Config?.ConfigCase != Tensorflow.Serving.ModelServerConfig.ConfigOneofCase.ModelConfigList)
        {
            throw GrpcErrors.ToRpcException(ServingError.InvalidArgument(
                "ServerModelConfig type not supported by HandleReloadConfigRequest. Only ModelConfigList is currently supported"));
        }

        var config = ModelServerConfigConverter.Convert(request.Config, serving, models);
        var validation = new ModelServerConfigValidator().Validate(null, config);
        if (validation.Failed)
        {
            throw GrpcErrors.ToRpcException(ServingError.InvalidArgument(
                $"the model config was not applied: {string.Join(" ", validation.Failures)}"));
        }

        var added = models.ApplyConfig(config);
        Log.Reloaded(logger, config.Models.Count, added.Count);

        var remaining = GrpcCallDeadline.Of(context)?.Remaining(time) ?? ReloadLoadTimeout;
        var timeout = remaining < ReloadLoadTimeout ? remaining : ReloadLoadTimeout;
        foreach (var model in added)
        {
            ServingError? error;
            try
            {
                error = await models.LoadAsync(model, timeout, context.CancellationToken);
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                // The client stopped waiting; the config stays applied and the models keep loading.
                return GrpcErrors.EndAbandoned<ReloadConfigResponse>(context, GrpcErrors.Abandoned(GrpcCallDeadline.Of(context), time));
            }

            if (error is not null)
            {
                throw GrpcErrors.ToRpcException(error with { Message = $"the config was applied, but {error.Message}" });
            }
        }

        return new ReloadConfigResponse { Status = new StatusProto { ErrorCode = Code.Ok } };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 222, EventName = "TfServingConfigReloaded", Level = LogLevel.Information,
            Message = "HandleReloadConfigRequest applied a config of {Count} model(s), {Added} of them new")]
        public static partial void Reloaded(ILogger logger, int count, int added);
    }
}
