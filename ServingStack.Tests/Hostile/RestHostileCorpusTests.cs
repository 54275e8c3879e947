using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// Every request of <c>rest-corpus.json</c> (bad JSON, wrong types, huge/negative/overflowing shapes, numbers out of
/// range, text that is not text, bad binary framing, bad headers and URLs, on /v1 and /v2) gets its 4xx with a
/// <c>{"error": "..."}</c> body naming the problem; afterwards the server still answers correctly and its peak memory
/// has not grown by more than the bound.
/// </summary>
[Collection(HostileServerCollection.Name)]
public sealed class RestHostileCorpusTests(HostileServerFixture fixture, ITestOutputHelper output)
{
    private const long MemoryBound = 300L * 1024 * 1024;

    // Client strings echoed in errors are cut to 256 characters; with the rest of a message this is ample.
    private const int LongestMessage = 2048;

    [Fact]
    public async Task Every_corpus_request_gets_its_4xx_error_and_the_server_stays_correct_and_bounded()
    {
        var corpus = HostileRequest.Load("rest-corpus.json");
        Assert.True(corpus.Count >= 60, $"the corpus has {corpus.Count} requests");
        var failures = new List<string>();
        foreach (var request in corpus)
        {
            Assert.InRange(request.Status, 400, 499);
            var (status, text) = await SendAsync(request);
            var problem = Check(request, status, text);
            if (problem is not null)
            {
                failures.Add($"{request.Name}: {problem}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));

        await fixture.AssertServesMnistAsync();
        var growth = fixture.PeakResidentBytes() - fixture.BaselinePeakBytes;
        output.WriteLine($"peak resident memory grew by {growth / (1024 * 1024)} MiB over {corpus.Count} requests");
        Assert.True(growth < MemoryBound, $"peak resident memory grew by {growth / (1024 * 1024)} MiB (bound {MemoryBound / (1024 * 1024)} MiB)");
    }

    private static string? Check(HostileRequest request, int status, string text)
    {
        if (status != request.Status)
        {
            return $"expected {request.Status} but got {status}: {Shorten(text)}";
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

        if (string.IsNullOrEmpty(message))
        {
            return $"expected a body {{\"error\": \"...\"}} with a message but got: {Shorten(text)}";
        }

        if (message.Length > LongestMessage)
        {
            return $"the message is {message.Length} characters; client text must be cut: {Shorten(message)}";
        }

        foreach (var fragment in request.Contains)
        {
            if (!message.Contains(fragment, StringComparison.Ordinal))
            {
                return $"expected the message to contain {fragment} but it was: {message}";
            }
        }

        return null;
    }

    private async Task<(int Status, string Text)> SendAsync(HostileRequest request)
    {
        // A fresh client per request: an oversized body closes its connection, and no request should lean on another's.
        using var client = new HttpClient { BaseAddress = fixture.Server.RestAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.ExpandedPath());
        if (request.BodyBytes() is { } body)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            // A server that refuses a large body without reading it (413) answers before the body is sent, instead of
            // the client failing mid-upload on a closed connection.
            message.Headers.ExpectContinue = body.Length > 1024 * 1024;
        }

        foreach (var (name, value) in request.Headers)
        {
            Assert.True(message.Headers.TryAddWithoutValidation(name, HostileRequest.ExpandedHeader(value)), $"{request.Name}: header {name}");
        }

        using var response = await client.SendAsync(message);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "…";
}
