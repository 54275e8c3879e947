using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ServingStack.ModelSync.Sources;

/// <summary>
/// <c>http(s)://host/path/index.json</c>: an index document lists every file with its size and SHA-256, and each file
/// is fetched from its path relative to the index URL:
/// <code>{"files": [{"path": "mnist/1/model.onnx", "size": 407400, "sha256": "9f86d0..."}]}</code>
/// </summary>
public sealed class HttpIndexModelSource : IModelSource
{
    /// <summary>The longest index accepted; a repository index is kilobytes.</summary>
    public const int MaxIndexBytes = 16 * 1024 * 1024;

    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly Uri _indexUri;

    public HttpIndexModelSource(HttpClient client, Uri indexUri, bool ownsClient = false)
    {
        _client = client;
        _indexUri = indexUri;
        _ownsClient = ownsClient;
        Description = indexUri.GetLeftPart(UriPartial.Path);
    }

    public string Description { get; }

    /// <summary>A client without an overall timeout (large files take as long as they take) that fails fast on connect.</summary>
    public static HttpIndexModelSource Create(SourceLocation location)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(15),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ServingStack.ModelSync", "1.0"));
        return new HttpIndexModelSource(client, location.IndexUri!, ownsClient: true);
    }

    /// <summary>Where a listed path is fetched from: the path's segments escaped, relative to the index URL.</summary>
    public static Uri FileUri(Uri indexUri, string path) =>
        new(indexUri, string.Join('/', path.Split('/').Select(Uri.EscapeDataString)));

    public async Task<IReadOnlyList<SourceFile>> ListAsync(CancellationToken cancellationToken)
    {
        byte[] body;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(100));
            using var response = await _client.GetAsync(_indexUri, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new ModelSourceException($"index {Description} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            if (response.Content.Headers.ContentLength > MaxIndexBytes)
            {
                throw new ModelSourceException($"index {Description} is larger than {MaxIndexBytes} bytes");
            }

            body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ModelSourceException($"fetching index {Description} failed: {ex.Message}", ex);
        }

        return Parse(body, _indexUri);
    }

    /// <summary>Reads an index document; every malformed entry is reported, with its position.</summary>
    public static IReadOnlyList<SourceFile> Parse(ReadOnlySpan<byte> json, Uri indexUri)
    {
        var description = indexUri.GetLeftPart(UriPartial.Path);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new ModelSourceException($"index {description} is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("files", out var filesElement) || filesElement.ValueKind != JsonValueKind.Array)
            {
                throw new ModelSourceException($"index {description} must be an object with a \"files\" array");
            }

            var files = new List<SourceFile>();
            var errors = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var entry in filesElement.EnumerateArray())
            {
                var where = string.Create(CultureInfo.InvariantCulture, $"files[{index++}]");
                if (entry.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{where} is not an object");
                    continue;
                }

                var path = entry.TryGetProperty("path", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()!.TrimStart('/') : null;
                if (string.IsNullOrEmpty(path))
                {
                    errors.Add($"{where} has no \"path\"");
                    continue;
                }

                where += $" ({path})";
                if (!entry.TryGetProperty("size", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var size) || size < 0)
                {
                    errors.Add($"{where} needs \"size\", a whole number of bytes >= 0");
                    continue;
                }

                var sha256 = entry.TryGetProperty("sha256", out var h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
                if (!ExpectedChecksum.IsHex(sha256, 64))
                {
                    errors.Add($"{where} needs \"sha256\", 64 hex digits");
                    continue;
                }

                if (!seen.Add(path))
                {
                    errors.Add($"{where} is listed twice");
                    continue;
                }

                files.Add(new SourceFile(path, size, ExpectedChecksum.Sha256(sha256!, "the index")) { Location = FileUri(indexUri, path).AbsoluteUri });
            }

            if (errors.Count > 0)
            {
                throw new ModelSourceException($"index {description} has {errors.Count} bad entr{(errors.Count == 1 ? "y" : "ies")}: {string.Join("; ", errors)}");
            }

            return files;
        }
    }

    public async Task<OpenedSourceFile> OpenAsync(SourceFile file, CancellationToken cancellationToken)
    {
        HttpResponseMessage? response = null;
        try
        {
            response = await _client.GetAsync(new Uri(file.Location), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ModelSourceException($"GET {file.Location} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var opened = new OpenedSourceFile(stream, response) { Length = response.Content.Headers.ContentLength, Checksum = file.Checksum };
            response = null;
            return opened;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new ModelSourceException($"GET {file.Location} failed: {ex.Message}", ex);
        }
        finally
        {
            response?.Dispose();
        }
    }

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }
}
