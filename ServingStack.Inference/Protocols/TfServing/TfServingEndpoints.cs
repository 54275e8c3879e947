using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols.TfServing.Grpc;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.TfServing;

/// <summary>TF Serving's REST API: predict, model status and model metadata under <c>/v1/models</c>.</summary>
public static class TfServingEndpoints
{
    public static IEndpointRouteBuilder MapTfServingApi(this IEndpointRouteBuilder app)
    {
        // One catch-all per method: TF Serving's ":predict" suffix and optional version/label segments do not fit
        // route templates, and a hand parser gives TF Serving's own error for a malformed URL.
        app.MapPost("/v1/models/{**path}", PostAsync).WithName("TfServingPredict");
        app.MapGet("/v1/models/{**path}", GetAsync).WithName("TfServingModelStatusOrMetadata");
        // TF Serving answers every other /v1 URL with its own "Malformed request" error, not an empty 404/405.
        app.MapFallback("/v1/{**path}", (HttpContext context) => ProtocolResults.WriteErrorAsync(context, ServingError.NotFound(
            $"malformed request: {context.Request.Method} {ClientText.Cut(context.Request.Path.Value)}; expected POST /v1/models/{{model}}[/versions/{{version}}|/labels/{{label}}]:predict or GET /v1/models/{{model}}[...][/metadata]")));
        return app;
    }

    private static async Task PostAsync(HttpContext context, string path, ModelManager models, IOptions<ServingOptions> options, ServingMetrics metrics)
    {
        if (!TfServingPath.TryParse(path, isPost: true, out var parsed, out var error))
        {
            await ProtocolResults.WriteErrorAsync(context, error!);
            return;
        }

        switch (parsed.Verb)
        {
            case "predict":
                await JsonInferencePipeline.InvokeAsync(context, models, options.Value, metrics, parsed.Target, TfServingPredictProtocol.Instance);
                return;
            case "classify" or "regress":
                await ProtocolResults.WriteErrorAsync(context, new ServingError(ServingErrorCode.Unimplemented,
                    $":{parsed.Verb} takes tf.Example inputs, which ONNX models have no signature for; use :predict"));
                return;
            default:
                await ProtocolResults.WriteErrorAsync(context, ServingError.NotFound($"malformed request: unknown method ':{ClientText.Cut(parsed.Verb)}'; expected :predict"));
                return;
        }
    }

    private static async Task GetAsync(HttpContext context, string path, ModelManager models)
    {
        if (!TfServingPath.TryParse(path, isPost: false, out var parsed, out var error))
        {
            await ProtocolResults.WriteErrorAsync(context, error!);
            return;
        }

        if (parsed.Metadata)
        {
            await WriteMetadataAsync(context, models, parsed.Target);
        }
        else
        {
            await WriteStatusAsync(context, models, parsed.Target);
        }
    }

    private static Task WriteStatusAsync(HttpContext context, ModelManager models, ModelTarget target)
    {
        if (!models.TryGetModel(target.Model, out var model))
        {
            return ProtocolResults.WriteErrorAsync(context, JsonInferencePipeline.UnknownModel(models, target.Model));
        }

        long? wanted = target.Version;
        if (target.Label is not null)
        {
            if (!model.Config.VersionLabels.TryGetValue(target.Label, out var labelled))
            {
                return ProtocolResults.WriteErrorAsync(context, ServingError.NotFound($"model '{model.Name}' has no version label '{ClientText.Cut(target.Label)}'"));
            }

            wanted = labelled;
        }

        var versions = model.Versions;
        var selected = new List<ModelVersion>();
        for (var i = versions.Count - 1; i >= 0; i--)
        {
            if (wanted is null || versions[i].Version == wanted)
            {
                selected.Add(versions[i]);
            }
        }

        if (selected.Count == 0)
        {
            return ProtocolResults.WriteErrorAsync(context, ServingError.NotFound(wanted is null
                ? $"could not find any versions of model '{model.Name}' under '{model.Config.BasePath}'"
                : $"could not find version {wanted} of model '{model.Name}'"));
        }

        return ProtocolResults.WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("model_version_status");
            foreach (var version in selected)
            {
                writer.WriteStartObject();
                writer.WriteString("version", version.Version.ToString(CultureInfo.InvariantCulture));
                writer.WriteString("state", version.State.ToString().ToUpperInvariant());
                writer.WriteStartObject("status");
                writer.WriteString("error_code", version.Error is null ? "OK" : "UNKNOWN");
                writer.WriteString("error_message", version.Error ?? string.Empty);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary>
    /// TF Serving's metadata as protobuf JSON: the same <c>GetModelMetadataResponse</c> gRPC answers, so it parses into
    /// the message (its Anys carry <c>@type</c>), in TF Serving's REST spelling (proto field names).
    /// </summary>
    private static async Task WriteMetadataAsync(HttpContext context, ModelManager models, ModelTarget target)
    {
        var version = ModelAcquisition.Acquire(models, target, out var error);
        if (version is null)
        {
            await ProtocolResults.WriteErrorAsync(context, error!);
            return;
        }

        string json;
        try
        {
            var execution = models.TryGetModel(target.Model, out var model) ? model.Config.Execution : null;
            json = TfServingMetadata.ToRestJson(TfServingMetadata.Build(version, execution, signatureDef: true, execution: true));
        }
        finally
        {
            version.Release();
        }

        await ProtocolResults.WriteJsonAsync(context, writer => writer.WriteRawValue(json, skipInputValidation: true));
    }
}
