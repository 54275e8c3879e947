using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.OpenInference;

/// <summary>The Open Inference Protocol (KServe v2) REST API: server and model health, metadata and infer under <c>/v2</c>.</summary>
public static class OpenInferenceEndpoints
{
    public const string ServerName = "servingstack";

    public static IEndpointRouteBuilder MapOpenInferenceApi(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2");
        v2.MapGet("", (HttpContext context, IOptions<ServingOptions> options) =>
            WriteServerMetadataAsync(context, !string.IsNullOrEmpty(options.Value.AdminApiKey)));
        v2.MapGet("/health/live", (HttpContext context) => WriteFlagAsync(context, "live", true));
        v2.MapGet("/health/ready", (HttpContext context, ModelManager models) => WriteFlagAsync(context, "ready", models.IsReady));
        v2.MapGet("/models/{model}", (HttpContext context, string model, ModelManager models) =>
            WriteModelMetadataAsync(context, models, new ModelTarget(model, null, null)));
        v2.MapGet("/models/{model}/versions/{version}", (HttpContext context, string model, string version, ModelManager models) =>
            TryTarget(model, version, out var target, out var error)
                ? WriteModelMetadataAsync(context, models, target)
                : ProtocolResults.WriteErrorAsync(context, error!));
        v2.MapGet("/models/{model}/ready", (HttpContext context, string model, ModelManager models) =>
            WriteModelReadyAsync(context, models, new ModelTarget(model, null, null)));
        v2.MapGet("/models/{model}/versions/{version}/ready", (HttpContext context, string model, string version, ModelManager models) =>
            TryTarget(model, version, out var target, out var error)
                ? WriteModelReadyAsync(context, models, target)
                : ProtocolResults.WriteErrorAsync(context, error!));
        v2.MapPost("/models/{model}/infer", (HttpContext context, string model, ModelManager models, IOptions<ServingOptions> options, ServingMetrics metrics) =>
            JsonInferencePipeline.InvokeAsync(context, models, options.Value, metrics, new ModelTarget(model, null, null), OpenInferenceInferProtocol.Instance));
        v2.MapPost("/models/{model}/versions/{version}/infer", (HttpContext context, string model, string version, ModelManager models, IOptions<ServingOptions> options, ServingMetrics metrics) =>
            TryTarget(model, version, out var target, out var error)
                ? JsonInferencePipeline.InvokeAsync(context, models, options.Value, metrics, target, OpenInferenceInferProtocol.Instance)
                : ProtocolResults.WriteErrorAsync(context, error!));
        // Anything else under /v2 (an unknown path, or a known one with the wrong method) still answers in the
        // protocol's error shape rather than with an empty 404/405.
        v2.MapFallback("{**path}", (HttpContext context) => ProtocolResults.WriteErrorAsync(context, ServingError.NotFound(
            $"no Open Inference endpoint answers {context.Request.Method} {ClientText.Cut(context.Request.Path.Value)}; see GET /v2 and POST /v2/models/{{model}}[/versions/{{version}}]/infer")));
        return app;
    }

    private static bool TryTarget(string model, string version, out ModelTarget target, out ServingError? error)
    {
        if (long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0)
        {
            target = new ModelTarget(model, number, null);
            error = null;
            return true;
        }

        target = default;
        error = ServingError.InvalidArgument($"version '{ClientText.Cut(version)}' in the URL is not a positive integer");
        return false;
    }

    private static Task WriteServerMetadataAsync(HttpContext context, bool repositoryApi) =>
        ProtocolResults.WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name", ServerName);
            writer.WriteString("version", typeof(OpenInferenceEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            writer.WriteStartArray("extensions");
            writer.WriteStringValue("binary_tensor_data");
            if (repositoryApi)
            {
                writer.WriteStringValue("model_repository");
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });

    private static Task WriteFlagAsync(HttpContext context, string name, bool value)
    {
        context.Response.StatusCode = value ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        return ProtocolResults.WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean(name, value);
            writer.WriteEndObject();
        });
    }

    private static Task WriteModelReadyAsync(HttpContext context, ModelManager models, ModelTarget target)
    {
        var version = ModelAcquisition.Acquire(models, target, out var error);
        if (version is null && error!.Code == ServingErrorCode.NotFound)
        {
            return ProtocolResults.WriteErrorAsync(context, error);
        }

        version?.Release();
        context.Response.StatusCode = version is null ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
        return ProtocolResults.WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("name", target.Model);
            writer.WriteBoolean("ready", version is not null);
            if (error is not null)
            {
                writer.WriteString("error", error.Message);
            }

            writer.WriteEndObject();
        });
    }

    private static async Task WriteModelMetadataAsync(HttpContext context, ModelManager models, ModelTarget target)
    {
        var version = ModelAcquisition.Acquire(models, target, out var error);
        if (version is null)
        {
            await ProtocolResults.WriteErrorAsync(context, error!);
            return;
        }

        try
        {
            models.TryGetModel(target.Model, out var model);
            var session = version.Session;
            await ProtocolResults.WriteJsonAsync(context, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("name", version.ModelName);
                writer.WriteStartArray("versions");
                foreach (var v in model!.Versions)
                {
                    if (v.State == ModelVersionState.Available)
                    {
                        writer.WriteStringValue(v.Version.ToString(CultureInfo.InvariantCulture));
                    }
                }

                writer.WriteEndArray();
                writer.WriteString("platform", "onnxruntime_onnx");
                WriteSpecs(writer, "inputs", session.Inputs);
                WriteSpecs(writer, "outputs", session.Outputs);
                // Not in the spec's metadata: which provider this version actually runs on.
                writer.WriteStartObject("parameters");
                writer.WriteString("version", version.Version.ToString(CultureInfo.InvariantCulture));
                writer.WriteString("execution_provider", version.ExecutionProvider);
                writer.WriteString("requested_execution_provider", model.Config.Execution.Provider);
                if (version.FallbackReason is not null)
                {
                    writer.WriteString("execution_provider_fallback_reason", version.FallbackReason);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            });
        }
        finally
        {
            version.Release();
        }
    }

    private static void WriteSpecs(Utf8JsonWriter writer, string property, IReadOnlyList<TensorSpec> specs)
    {
        writer.WriteStartArray(property);
        foreach (var spec in specs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", spec.Name);
            writer.WriteString("datatype", spec.DataType.ToOpenInferenceName());
            writer.WriteStartArray("shape");
            foreach (var dim in spec.Shape)
            {
                writer.WriteNumberValue(dim);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
