using System.Text.Json;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// One JSON inference request from URL to response, shared by TF Serving and Open Inference REST: resolve the version
/// (holding a reference so it cannot unload mid-request), read and parse the body, validate, run, write.
/// </summary>
public static class JsonInferencePipeline
{
    private static readonly JsonDocumentOptions s_documentOptions = new() { MaxDepth = 64 };

    public static async Task InvokeAsync(HttpContext context, ModelManager models, long maxBodyBytes, ModelTarget target, IJsonInferenceProtocol protocol)
    {
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
            (body, error) = await RequestBodyReader.ReadAsync(context.Request, maxBodyBytes, context.RequestAborted);
            if (body is not null)
            {
                quoted = NonFiniteJsonLiterals.Quote(body.Memory.Span);
                error = Parse(quoted ?? body, version.Session, protocol, request);
            }

            if (error is null)
            {
                var session = version.Session;
                IReadOnlyList<TensorSpec>? selected = null;
                error = ModelInvoker.ValidateInputs(session, request.Inputs, out var ordered)
                    ?? ModelInvoker.SelectOutputs(session, request.RequestedOutputs, out selected);
                if (error is null)
                {
                    outputs = ModelInvoker.Run(session, ordered, selected!, out error);
                    error ??= protocol.CheckOutputs(request, outputs!);
                }
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
