using System.Net;
using System.Net.Http.Headers;
using ServingStack.Gateway.Splits;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// gRPC calls with hand-made bodies over plain HTTP/2 (h2c): for messages no generated client would send, and for
/// services whose generated client the tests do not have.
/// </summary>
internal sealed class RawGrpcClient(Uri address) : IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler()) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };

    public async Task<RawGrpcResponse> CallAsync(string path, byte[] body, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(body),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _client.SendAsync(request);
        var payload = await response.Content.ReadAsByteArrayAsync();
        // A trailers-only answer carries the status in its headers; a full one in its trailers.
        var status = Header(response.Headers, "grpc-status") ?? Header(response.TrailingHeaders, "grpc-status");
        var message = Header(response.Headers, "grpc-message") ?? Header(response.TrailingHeaders, "grpc-message");
        return new RawGrpcResponse((int)response.StatusCode, status is null ? null : int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
            message is null ? null : Uri.UnescapeDataString(message), Header(response.Headers, WeightedSplitMiddleware.ServedByHeader), payload);
    }

    public void Dispose() => _client.Dispose();

    private static string? Header(HttpHeaders headers, string name) => headers.TryGetValues(name, out var values) ? values.First() : null;
}

internal sealed record RawGrpcResponse(int HttpStatus, int? GrpcStatus, string? GrpcMessage, string? ServedBy, byte[] Payload);
