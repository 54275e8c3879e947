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

    /// <summary>The longest timeout .NET timers (and so <c>Task.WaitAsync</c>) accept: 2^32 - 2 ms, about 49.7 days.</summary>
    public const long MaxTimeoutMilliseconds = uint.MaxValue - 1L;

    private static readonly JsonDocumentOptions s_documentOptions = new() { MaxDepth = 64 };

    public static async Task InvokeAsync(
        HttpContext context, ModelManager models, ServingOptions options, ServingMetrics metrics, ModelTarget target, IJsonInferenceProtocol protocol)
    {
        var started = Stopwatch.GetTimestamp();
        // The status label is the status sent: an exception that escapes becomes the exception handler's 500 (INTERNAL),
        // or nothing at all when the client has gone (CANCELLED).
        var status = ServingErrorCode.Internal;
        ModelVersion? version = null;
        try
        {
            if (!TryGetTimeout(context.Request, options, out var timeout, out var error))
            {
                status = error!.Code;
                await ProtocolResults.WriteErrorAsync(context, error);
                return;
            }

            version = ModelAcquisition.Acquire(models, target, out error);
            if (version is null)
            {
                status = error!.Code;
                await ProtocolResults.WriteErrorAsync(context, error);
                return;
            }

            status = await InferAsync(context, version, options, timeout, protocol);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            status = ServingErrorCode.Cancelled;
            throw;
        }
        catch (Exception)
        {
            status = ServingErrorCode.Internal;
            throw;
        }
        finally
        {
            version?.Release();
            // Unknown model names stay out of the labels: a client must not be able to grow the series without bound.
            var model = version?.ModelName ?? (models.TryGetModel(target.Model, out _) ? target.Model : "");
            var versionLabel = version?.Version.ToString(CultureInfo.InvariantCulture) ?? "";
            metrics.RecordRequest(model, versionLabel, protocol.Name, status.ToStatusName(), Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>Reads, runs and answers one request on an acquired version; returns the status it answered with.</summary>
    private static async Task<ServingErrorCode> InferAsync(HttpContext context, ModelVersion version, ServingOptions options, TimeSpan? timeout, IJsonInferenceProtocol protocol)
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
                error = Read(context.Request, body, version.Session, protocol, request, out quoted);
            }

            if (error is null)
            {
                (outputs, error) = await ModelInvoker.InvokeAsync(version, request.Inputs, request.RequestedOutputs, timeout, context.RequestAborted);
                error ??= protocol.CheckOutputs(request, outputs!);
            }

            if (error is not null)
            {
                await ProtocolResults.WriteErrorAsync(context, error);
                return error.Code;
            }

            if (AnyBinary(request, outputs!.Length))
            {
                await ProtocolResults.WriteWithBinaryAsync(context, writer => protocol.WriteResponse(writer, version, request, outputs), outputs, request.IsBinaryOutput);
            }
            else
            {
                await ProtocolResults.WriteJsonAsync(context, writer => protocol.WriteResponse(writer, version, request, outputs));
            }

            return ServingErrorCode.Ok;
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

    private static bool AnyBinary(ParsedInferenceRequest request, int outputs)
    {
        for (var i = 0; i < outputs; i++)
        {
            if (request.IsBinaryOutput(i))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Splits the body into its JSON part and binary tensor data (when the protocol speaks the extension and the request
    /// says where the JSON ends), then parses, checks and reads the JSON part.
    /// </summary>
    private static ServingError? Read(
        HttpRequest httpRequest, PooledBuffer body, OnnxModelSession session, IJsonInferenceProtocol protocol, ParsedInferenceRequest request, out PooledBuffer? quoted)
    {
        quoted = null;
        var jsonLength = body.Length;
        if (protocol.SupportsBinaryTensorData && httpRequest.Headers.ContainsKey(BinaryTensorData.HeaderLengthHeader))
        {
            var error = TryGetJsonLength(httpRequest, body.Length, out jsonLength);
            if (error is not null)
            {
                return error;
            }

            request.HasBinaryPart = true;
            request.BinaryData = body.Memory[jsonLength..];
            if (jsonLength == 0)
            {
                // Triton's raw binary request: no JSON at all, the whole body is the one input's data.
                return protocol.ReadRequest(default, session, request);
            }
        }

        var json = body.Memory[..jsonLength];
        quoted = NonFiniteJsonLiterals.Quote(json.Span);
        return Parse(quoted?.Memory ?? json, session, protocol, request);
    }

    /// <summary>Reads <c>Inference-Header-Content-Length</c> as the length of the body's JSON part.</summary>
    private static ServingError? TryGetJsonLength(HttpRequest request, int bodyLength, out int jsonLength)
    {
        jsonLength = bodyLength;
        var header = request.Headers[BinaryTensorData.HeaderLengthHeader];
        if (header.Count > 1)
        {
            return ServingError.InvalidArgument($"{BinaryTensorData.HeaderLengthHeader} is given {header.Count} times; give it once");
        }

        if (!long.TryParse(header[0], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            return ServingError.InvalidArgument(
                $"{BinaryTensorData.HeaderLengthHeader} must be the length in bytes of the body's JSON part (a non-negative integer), not '{ClientText.Cut(header[0])}'");
        }

        if (length > bodyLength)
        {
            return ServingError.InvalidArgument(
                $"{BinaryTensorData.HeaderLengthHeader} is {length} but the body has only {bodyLength} bytes; it must give the length of the JSON part that starts the body");
        }

        jsonLength = (int)length;
        return null;
    }

    /// <summary>
    /// How long the request may wait in a batch queue: the <c>X-Request-Timeout-Ms</c> header, else
    /// <c>--rest_api_timeout_in_ms</c> (0 for none). A header beyond the longest wait .NET timers can measure (about 49.7
    /// days) is clamped to it rather than refused: a client that sends a huge value (often long.MaxValue) means "no
    /// limit", and the clamp gives it that.
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

        var text = header[0] ?? string.Empty;
        if (header.Count > 1 || text.Length == 0 || text.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            error = ServingError.InvalidArgument(
                $"{RequestTimeoutHeader} must be one positive number of milliseconds, not '{ClientText.Cut(header.ToString())}'");
            return false;
        }

        // All digits: a value too long for a long is as good as the longest timeout.
        var ms = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed : long.MaxValue;
        if (ms == 0)
        {
            error = ServingError.InvalidArgument($"{RequestTimeoutHeader} must be a positive number of milliseconds, not '{ClientText.Cut(text)}'");
            return false;
        }

        timeout = TimeSpan.FromMilliseconds(Math.Min(ms, MaxTimeoutMilliseconds));
        return true;
    }

    public static ServingError UnknownModel(ModelManager models, string name) => ModelAcquisition.UnknownModel(models, name);

    private static ServingError? Parse(ReadOnlyMemory<byte> json, OnnxModelSession session, IJsonInferenceProtocol protocol, ParsedInferenceRequest request)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, s_documentOptions);
        }
        catch (JsonException ex)
        {
            return NotJson(json.Span, ex, protocol, request);
        }

        using (document)
        {
            return JsonStringValidator.Check(json.Span) ?? protocol.ReadRequest(document.RootElement, session, request);
        }
    }

    /// <summary>
    /// Says why the JSON part failed to parse. A whole JSON value followed by more bytes is most likely binary tensor data
    /// sent without (or with a wrong) <c>Inference-Header-Content-Length</c>, and the message says so.
    /// </summary>
    private static ServingError NotJson(ReadOnlySpan<byte> json, JsonException ex, IJsonInferenceProtocol protocol, ParsedInferenceRequest request)
    {
        var part = request.HasBinaryPart
            ? $"the JSON part of the body (its first {json.Length} bytes, as {BinaryTensorData.HeaderLengthHeader} says)"
            : "the request body";
        var end = EndOfFirstValue(json);
        if (end > 0 && end < json.Length)
        {
            var hint = !protocol.SupportsBinaryTensorData
                ? "; send a single JSON object"
                : request.HasBinaryPart
                    ? $"; {BinaryTensorData.HeaderLengthHeader} should be {end}"
                    : $"; a body with binary tensor data needs the {BinaryTensorData.HeaderLengthHeader} header giving the length of its JSON part ({end})";
            return ServingError.InvalidArgument($"{part} is not valid JSON: a JSON value ends at byte {end} and {json.Length - end} more bytes follow{hint}");
        }

        return ServingError.InvalidArgument($"{part} is not valid JSON: {ex.Message}");
    }

    /// <summary>Where the first JSON value in <paramref name="json"/> ends (with the whitespace after it), or -1.</summary>
    private static long EndOfFirstValue(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || !reader.TrySkip())
            {
                return -1;
            }

            var end = reader.BytesConsumed;
            while (end < json.Length && json[(int)end] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                end++;
            }

            return end;
        }
        catch (JsonException)
        {
            return -1;
        }
    }
}
