using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// One JSON inference request from URL to response, shared by TF Serving and Open Inference REST: resolve the version
/// (holding a reference so it cannot unload mid-request), read and parse the body, validate, run, write.
/// </summary>
public static class JsonInferencePipeline
{
    public const string RequestTimeoutHeader = "X-Request-Timeout-Ms";

    private static readonly JsonDocumentOptions s_documentOptions = new() { MaxDepth = 64 };

    public static async Task InvokeAsync(
        HttpContext context, ModelManager models, ServingOptions options, ServingMetrics metrics, ModelTarget target, IJsonInferenceProtocol protocol)
    {
        var started = Stopwatch.GetTimestamp();
        ServingError? error = null;
        ModelVersion? version = null;
        try
        {
            if (!TryGetTimeout(context.Request, options, out var timeout, out error))
            {
                await ProtocolResults.WriteErrorAsync(context, error!);
                return;
            }

            version = Acquire(models, target, out error);
            if (version is null)
            {
                await ProtocolResults.WriteErrorAsync(context, error!);
                return;
            }

            error = await InferAsync(context, version, options, timeout, protocol);
        }
        finally
        {
            version?.Release();
            // Unknown model names stay out of the labels: a client must not be able to grow the series without bound.
            var model = version?.ModelName ?? (models.TryGetModel(target.Model, out _) ? target.Model : "");
            var versionLabel = version?.Version.ToString(CultureInfo.InvariantCulture) ?? "";
            metrics.RecordRequest(model, versionLabel, protocol.Name, (error?.Code ?? ServingErrorCode.Ok).ToStatusName(), Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>Reads, runs and answers one request on an acquired version; returns the error it answered with, if any.</summary>
    private static async Task<ServingError?> InferAsync(HttpContext context, ModelVersion version, ServingOptions options, TimeSpan? timeout, IJsonInferenceProtocol protocol)
    {
        PooledBuffer? body = null;
        PooledBuffer? quoted = null;
        InferenceTensor[]? outputs = null;
        using var request = new ParsedInferenceRequest();
        try
        {
            (body, var error) = await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBodyBytes, context.RequestAborted);
            if (body is not null)
            {
                quoted = NonFiniteJsonLiterals.Quote(body.Memory.Span);
                error = Parse(quoted ?? body, version.Session, protocol, request);
            }

            if (error is null)
            {
                (outputs, error) = await ModelInvoker.InvokeAsync(version, request.Inputs, request.RequestedOutputs, timeout, context.RequestAborted);
                error ??= protocol.CheckOutputs(request, outputs!);
            }

            if (error is not null)
            {
                await ProtocolResults.WriteErrorAsync(context, error);
                return error;
            }

            await ProtocolResults.WriteJsonAsync(context, writer => protocol.WriteResponse(writer, version, request, outputs!));
            return null;
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

            quoted?.Dispose();
            body?.Dispose();
        }
    }

    /// <summary>
    /// How long the request may wait in a batch queue: the <c>X-Request-Timeout-Ms</c> header, else
    /// <c>--rest_api_timeout_in_ms</c> (0 for none).
    /// </summary>
    private static bool TryGetTimeout(HttpRequest request, ServingOptions options, out TimeSpan? timeout, out ServingError? error)
    {
        error = null;
        timeout = options.RestApiTimeoutInMs > 0 ? TimeSpan.FromMilliseconds(options.RestApiTimeoutInMs) : null;
        var header = request.Headers[RequestTimeoutHeader];
        if (header.Count == 0)
        {
            return true;
        }

        if (!long.TryParse(header[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ms) || ms <= 0)
        {
            error = ServingError.InvalidArgument($"{RequestTimeoutHeader} must be a positive number of milliseconds, not '{header[0]}'");
            return false;
        }

        timeout = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    /// <summary>Finds the model and takes a reference on the version the target names.</summary>
    public static ModelVersion? Acquire(ModelManager models, ModelTarget target, out ServingError? error)
    {
        if (!models.TryGetModel(target.Model, out var model))
        {
            error = UnknownModel(models, target.Model);
            return null;
        }

        return model.Acquire(target.Version, target.Label, out error);
    }

    public static ServingError UnknownModel(ModelManager models, string name)
    {
        var names = new string[models.Models.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = models.Models[i].Name;
        }

        return ServingError.NotFound($"model '{name}' is not served here (models: {string.Join(", ", names)})");
    }

    private static ServingError? Parse(PooledBuffer json, OnnxModelSession session, IJsonInferenceProtocol protocol, ParsedInferenceRequest request)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.Memory, s_documentOptions);
        }
        catch (JsonException ex)
        {
            return ServingError.InvalidArgument($"the request body is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            return protocol.ReadRequest(document.RootElement, session, request);
        }
    }
}
