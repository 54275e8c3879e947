using System.Text.Json;
using ServingStack.Inference.Configuration;
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

    public static async Task InvokeAsync(HttpContext context, ModelManager models, ServingOptions options, ModelTarget target, IJsonInferenceProtocol protocol)
    {
        if (!TryGetTimeout(context.Request, options, out var timeout, out var timeoutError))
        {
            await ProtocolResults.WriteErrorAsync(context, timeoutError!);
            return;
        }

        var version = Acquire(models, target, out var error);
        if (version is null)
        {
            await ProtocolResults.WriteErrorAsync(context, error!);
            return;
        }

        PooledBuffer? body = null;
        PooledBuffer? quoted = null;
        InferenceTensor[]? outputs = null;
        using var request = new ParsedInferenceRequest();
        try
        {
            (body, error) = await RequestBodyReader.ReadAsync(context.Request, options.MaxRequestBodyBytes, context.RequestAborted);
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
                return;
            }

            await ProtocolResults.WriteJsonAsync(context, writer => protocol.WriteResponse(writer, version, request, outputs!));
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
            version.Release();
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

        if (!long.TryParse(header[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) || ms <= 0)
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
