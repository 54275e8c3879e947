using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Grpc.Core;
using ServingStack.Tests.Gateway;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// Sends corpus entries and checks each answer: the status stated, never a 5xx (gRPC: never UNKNOWN or INTERNAL), a
/// message in the protocol's shape containing every fragment, and client text cut (no message over 2 KiB).
/// </summary>
public static class HostileCorpusRunner
{
    // Client strings echoed in errors are cut to 256 characters; with the rest of a message this is ample.
    public const int LongestMessage = 2048;

    /// <summary>Sends one REST entry to <paramref name="address"/>; null when it got its answer, else what went wrong.</summary>
    public static async Task<string?> CheckRestAsync(Uri address, HostileRequest request, bool throughGateway, params (string Name, string Value)[] extraHeaders)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (expected, contains) = throughGateway && request.Gateway is { } g ? g : (request.Status, request.Contains);
        int status;
        string text;
        try
        {
            (status, text) = await SendAsync(address, request, extraHeaders);
        }
        catch (HttpRequestException ex)
        {
            return $"no answer: {ex.Message}";
        }

        if (status >= 500)
        {
            return $"a server error {status}: {Shorten(text)}";
        }

        if (status != expected)
        {
            return $"expected {expected} but got {status}: {Shorten(text)}";
        }

        if (request.Bare && contains.Count == 0)
        {
            return null;
        }

        string? message;
        try
        {
            message = JsonNode.Parse(text)?["error"]?.GetValue<string>();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            message = null;
        }

        return string.IsNullOrEmpty(message) ? $"expected a body {{\"error\": \"...\"}} with a message but got: {Shorten(text)}" : CheckMessage(message, contains);
    }

    /// <summary>Sends one gRPC entry to <paramref name="address"/>; null when it got its answer, else what went wrong.</summary>
    public static async Task<string?> CheckGrpcAsync(Uri address, HostileGrpcCall call, bool throughGateway, params (string Name, string Value)[] extraHeaders)
    {
        ArgumentNullException.ThrowIfNull(call);
        var (expected, contains) = throughGateway && call.Gateway is { } g ? g : (call.Status, call.Contains);
        using var client = new RawGrpcClient(address);
        RawGrpcResponse response;
        try
        {
            response = await client.CallAsync(call.Method, call.Body, [.. call.Headers.Select(h => (h.Key, h.Value)), .. extraHeaders]);
        }
        catch (HttpRequestException ex)
        {
            return $"no answer: {ex.Message}";
        }

        if (response.GrpcStatus is not { } code)
        {
            return $"no grpc-status (HTTP {response.HttpStatus})";
        }

        var status = (StatusCode)code;
        if (status is StatusCode.Unknown or StatusCode.Internal || response.HttpStatus >= 500)
        {
            return $"a server error {status} (HTTP {response.HttpStatus}): {Shorten(response.GrpcMessage ?? "")}";
        }

        if (status != expected)
        {
            return $"expected {expected} but got {status}: {Shorten(response.GrpcMessage ?? "")}";
        }

        return string.IsNullOrEmpty(response.GrpcMessage) ? "expected a grpc-message" : CheckMessage(response.GrpcMessage, contains);
    }

    private static string? CheckMessage(string message, IReadOnlyList<string> contains)
    {
        if (message.Length > LongestMessage)
        {
            return $"the message is {message.Length} characters; client text must be cut: {Shorten(message)}";
        }

        foreach (var fragment in contains)
        {
            if (!message.Contains(fragment, StringComparison.Ordinal))
            {
                return $"expected the message to contain {fragment} but it was: {message}";
            }
        }

        return null;
    }

    private static async Task<(int Status, string Text)> SendAsync(Uri address, HostileRequest request, (string Name, string Value)[] extraHeaders)
    {
        // A fresh client per request: an oversized body closes its connection, and no request should lean on another's.
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(60) };
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.ExpandedPath());
        if (request.BodyBytes() is { } body)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            // A server that refuses a large body without reading it (413) answers before the body is sent, instead of
            // the client failing mid-upload on a closed connection.
            message.Headers.ExpectContinue = body.Length > 1024 * 1024;
        }

        foreach (var (name, value) in extraHeaders)
        {
            Assert.True(message.Headers.TryAddWithoutValidation(name, value), $"{request.Name}: header {name}");
        }

        foreach (var (name, value) in request.Headers)
        {
            message.Headers.Remove(name);
            Assert.True(message.Headers.TryAddWithoutValidation(name, HostileRequest.ExpandedHeader(value)), $"{request.Name}: header {name}");
        }

        using var response = await client.SendAsync(message);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "…";
}
