using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using ServingStack.Bench.Load;
using ServingStack.Bench.Options;

namespace ServingStack.Bench.Remote;

/// <summary>
/// POSTs one pre-serialized JSON body (Open Inference /infer or TF Serving :predict) over HTTP/1.1 and reads the whole
/// answer, so connections are reused.
/// </summary>
public sealed class RestTarget : IProbedTarget
{
    private const int ReadBufferSize = 16 * 1024;

    private readonly HttpClient _client;
    private readonly RestFormat _format;
    private readonly byte[] _body;
    private readonly byte[]?[] _buffers;

    public RestTarget(HttpClient client, Uri baseUrl, string model, string? version, RestFormat format, byte[] body, int rowsPerRequest, int maxConcurrency)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        _client = client;
        _format = format;
        _body = body;
        _buffers = new byte[maxConcurrency][];
        RowsPerRequest = rowsPerRequest;
        var versionPart = version is null ? string.Empty : $"/versions/{version}";
        Endpoint = new Uri(baseUrl, format == RestFormat.V2 ? $"v2/models/{model}{versionPart}/infer" : $"v1/models/{model}{versionPart}:predict");
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

    public async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        using var request = CreateRequest();
        try
        {
            using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return $"POST {Endpoint} answered {(int)response.StatusCode}: {MetadataClient.Shorten(text)}";
            }

            using var document = JsonDocument.Parse(text);
            var expected = _format == RestFormat.V2 ? "outputs" : "predictions";
            return document.RootElement.TryGetProperty(expected, out _) || document.RootElement.TryGetProperty("outputs", out _)
                ? null
                : $"POST {Endpoint} answered 200 without \"{expected}\": {MetadataClient.Shorten(text)}";
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return $"POST {Endpoint} failed: {ex.Message}";
        }
    }

    private HttpRequestMessage CreateRequest()
    {
        var content = new ByteArrayContent(_body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpRequestMessage(HttpMethod.Post, Endpoint)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
    }
}
