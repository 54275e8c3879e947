using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using ServingStack.Bench.Load;
using ServingStack.Bench.Options;

namespace ServingStack.Bench.Remote;

/// <summary>
/// POSTs one pre-serialized body (Open Inference /infer as JSON or with binary tensors, or TF Serving :predict) over
/// HTTP/1.1 and reads the whole answer, so connections are reused.
/// </summary>
public sealed class RestTarget : IProbedTarget
{
    private const int ReadBufferSize = 16 * 1024;
    private const string HeaderLengthName = "Inference-Header-Content-Length";

    private readonly HttpClient _client;
    private readonly RestFormat _format;
    private readonly byte[] _body;
    private readonly byte[]?[] _buffers;
    private readonly string? _headerLength;

    /// <param name="headerLength">With <see cref="RestFormat.Binary"/>: the length of the body's JSON part.</param>
    public RestTarget(HttpClient client, Uri baseUrl, string model, string? version, RestFormat format, byte[] body, int rowsPerRequest, int maxConcurrency, int? headerLength = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        _client = client;
        _format = format;
        _body = body;
        _buffers = new byte[maxConcurrency][];
        RowsPerRequest = rowsPerRequest;
        _headerLength = format == RestFormat.Binary
            ? (headerLength ?? throw new ArgumentException("A binary body needs its header length.", nameof(headerLength))).ToString(System.Globalization.CultureInfo.InvariantCulture)
            : null;
        var versionPart = version is null ? string.Empty : $"/versions/{version}";
        Endpoint = new Uri(baseUrl, format != RestFormat.Tf ? $"v2/models/{model}{versionPart}/infer" : $"v1/models/{model}{versionPart}:predict");
    }

    public Uri Endpoint { get; }

    public int RowsPerRequest { get; }

    public bool RunsSynchronously => false;

    public int BodyBytes => _body.Length;

    public async ValueTask<RequestOutcome> SendAsync(int worker, CancellationToken cancellationToken)
    {
        using var request = CreateRequest();
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var buffer = _buffers[worker] ??= new byte[ReadBufferSize];
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                while (await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
                {
                }
            }

            return response.IsSuccessStatusCode ? RequestOutcome.Success : RequestOutcome.Failed($"HTTP {(int)response.StatusCode}");
        }
        catch (HttpRequestException ex)
        {
            return RequestOutcome.Failed(ClosedLoopRunner.DescribeException(ex));
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return RequestOutcome.Failed("timeout");
        }
    }

    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        using var request = CreateRequest();
        try
        {
            using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return ProbeResult.Failed($"POST {Endpoint} answered {(int)response.StatusCode}: {MetadataClient.Shorten(System.Text.Encoding.UTF8.GetString(body))}");
            }

            // A binary answer is its JSON part (length in the header) and then each binary output's bytes, in order.
            var jsonLength = body.Length;
            if (response.Headers.TryGetValues(HeaderLengthName, out var values) || response.Content.Headers.TryGetValues(HeaderLengthName, out values))
            {
                if (!int.TryParse(values.FirstOrDefault(), out jsonLength) || jsonLength < 0 || jsonLength > body.Length)
                {
                    return ProbeResult.Failed($"POST {Endpoint} answered {HeaderLengthName}: {values.FirstOrDefault()} for a body of {body.Length} bytes.");
                }
            }
            else if (_format == RestFormat.Binary)
            {
                return ProbeResult.Failed($"POST {Endpoint} answered without {HeaderLengthName}, though binary outputs were asked for.");
            }

            using var document = JsonDocument.Parse(body.AsMemory(0, jsonLength));
            var root = document.RootElement;
            if (_format == RestFormat.Tf)
            {
                return root.TryGetProperty("predictions", out _) || root.TryGetProperty("outputs", out _)
                    ? ProbeResult.Succeeded(null)
                    : ProbeResult.Failed($"POST {Endpoint} answered 200 without \"predictions\": {MetadataClient.Shorten(root.GetRawText())}");
            }

            if (!root.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array)
            {
                return ProbeResult.Failed($"POST {Endpoint} answered 200 without \"outputs\": {MetadataClient.Shorten(root.GetRawText())}");
            }

            return DecodeOutputs(outputs, body.AsSpan(jsonLength));
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or InvalidDataException or InvalidOperationException or KeyNotFoundException or FormatException
            || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return ProbeResult.Failed($"POST {Endpoint} failed: {ex.Message}");
        }
    }

    private ProbeResult DecodeOutputs(JsonElement outputs, ReadOnlySpan<byte> binary)
    {
        var decoded = new List<DecodedTensor>();
        var offset = 0;
        foreach (var output in outputs.EnumerateArray())
        {
            if (output.TryGetProperty("parameters", out var parameters) && parameters.TryGetProperty("binary_data_size", out var sizeElement))
            {
                var size = sizeElement.GetInt32();
                if (size < 0 || size > binary.Length - offset)
                {
                    return ProbeResult.Failed($"POST {Endpoint}: output binary_data_size {size} runs past the {binary.Length} binary bytes.");
                }

                decoded.Add(new DecodedTensor(
                    output.GetProperty("name").GetString()!,
                    [.. output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())],
                    OutputDecoder.FromRaw(output.GetProperty("datatype").GetString()!, binary.Slice(offset, size))));
                offset += size;
            }
            else if (_format == RestFormat.Binary)
            {
                return ProbeResult.Failed($"POST {Endpoint}: output '{output.GetProperty("name").GetString()}' came back as JSON, though binary_data was asked for.");
            }
            else
            {
                decoded.Add(OutputDecoder.FromJson(output));
            }
        }

        return offset == binary.Length
            ? ProbeResult.Succeeded(decoded)
            : ProbeResult.Failed($"POST {Endpoint}: {binary.Length - offset} binary bytes after the last output.");
    }

    private HttpRequestMessage CreateRequest()
    {
        var content = new ByteArrayContent(_body);
        if (_headerLength is null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        else
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.TryAddWithoutValidation(HeaderLengthName, _headerLength);
        }
        return new HttpRequestMessage(HttpMethod.Post, Endpoint)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
    }
}
