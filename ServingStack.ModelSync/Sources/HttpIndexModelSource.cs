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
    private readonly TimeSpan _noProgressTimeout;
    private readonly TimeProvider _time;

    /// <param name="noProgressTimeout">How long fetching the index may receive nothing before it fails.</param>
    public HttpIndexModelSource(HttpClient client, Uri indexUri, bool ownsClient = false, TimeSpan? noProgressTimeout = null, TimeProvider? time = null)
    {
        _client = client;
        _indexUri = indexUri;
        _ownsClient = ownsClient;
        _noProgressTimeout = noProgressTimeout ?? Configuration.ModelSyncOptions.DefaultNoProgressTimeout;
        _time = time ?? TimeProvider.System;
        Description = indexUri.GetLeftPart(UriPartial.Path);
    }

    public string Description { get; }

    /// <summary>
    /// A client without an overall timeout (large files take as long as they take: the no-progress timeout catches a
    /// stalled one) that fails fast on connect.
    /// </summary>
    public static HttpIndexModelSource Create(SourceLocation location, TimeSpan? noProgressTimeout = null, TimeProvider? time = null)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(15),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ServingStack.ModelSync", "1.0"));
        return new HttpIndexModelSource(client, location.IndexUri!, ownsClient: true, noProgressTimeout, time);
    }

    /// <summary>Where a listed path is fetched from: the path's segments escaped, relative to the index URL.</summary>
    public static Uri FileUri(Uri indexUri, string path) =>
        new(indexUri, string.Join('/', path.Split('/').Select(Uri.EscapeDataString)));

    public async Task<IReadOnlyList<SourceFile>> ListAsync(CancellationToken cancellationToken)
    {
        MemoryStream body;
        using var watchdog = new ProgressWatchdog(_noProgressTimeout, _time, cancellationToken);
        try
        {
            using var response = await _client.GetAsync(_indexUri, HttpCompletionOption.ResponseHeadersRead, watchdog.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new ModelSourceException($"index {Description} answered {(int)response.StatusCode} {SourceText.Display(response.ReasonPhrase, 100)}") { IsTransient = IsTransient(response.StatusCode) };
            }

            if (response.Content.Headers.ContentLength > MaxIndexBytes)
            {
                throw TooLarge();
            }

            watchdog.Progress();
            await using var stream = await response.Content.ReadAsStreamAsync(watchdog.Token);
            body = await ReadIndexAsync(stream, watchdog);
        }
        catch (Exception ex) when (watchdog.Expired)
        {
            throw new ModelSourceException($"fetching index {Description} failed: {watchdog.Describe()}", ex) { IsTransient = true };
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            throw new ModelSourceException($"fetching index {Description} failed: {ex.Message}", ex) { IsTransient = true };
        }

        using (body)
        {
            return Parse(body.GetBuffer().AsSpan(0, (int)body.Length), _indexUri);
        }
    }

    /// <summary>Whether an HTTP answer is worth asking again: timeouts, throttling and server errors.</summary>
    public static bool IsTransient(System.Net.HttpStatusCode status) => (int)status is 408 or 429 or >= 500;

    /// <summary>The body up to <see cref="MaxIndexBytes"/>; beyond that reading stops, whatever the headers said (a chunked body says nothing).</summary>
    private async Task<MemoryStream> ReadIndexAsync(Stream stream, ProgressWatchdog watchdog)
    {
        var body = new MemoryStream();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(), watchdog.Token)) > 0)
            {
                watchdog.Progress();
                if (body.Length + read > MaxIndexBytes)
                {
                    throw TooLarge();
                }

                body.Write(buffer, 0, read);
            }

            return body;
        }
        catch
        {
            await body.DisposeAsync();
            throw;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ModelSourceException TooLarge() =>
        new(string.Create(CultureInfo.InvariantCulture, $"index {Description} is larger than {MaxIndexBytes} bytes (16 MiB); it was not read further"));

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

            if (filesElement.GetArrayLength() > SourceLimits.MaxFiles)
            {
                throw new ModelSourceException(SourceLimits.TooManyFiles($"index {description}"));
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

                var path = StringProperty(entry, "path")?.TrimStart('/');
                if (string.IsNullOrEmpty(path))
                {
                    errors.Add($"{where} has no \"path\"");
                    continue;
                }

                where += $" ({ModelFilePath.Display(path)})";
                if (!entry.TryGetProperty("size", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var size) || size < 0)
                {
                    errors.Add($"{where} needs \"size\", a whole number of bytes >= 0");
                    continue;
                }

                var sha256 = StringProperty(entry, "sha256");
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

                Uri location;
                try
                {
                    location = FileUri(indexUri, path);
                }
                catch (UriFormatException ex)
                {
                    errors.Add($"{where} cannot be made into a URL: {ex.Message}");
                    continue;
                }

                files.Add(new SourceFile(path, size, ExpectedChecksum.Sha256(sha256!, "the index")) { Location = location.AbsoluteUri });
            }

            if (errors.Count > 0)
            {
                const int Shown = 20;
                var more = errors.Count > Shown ? string.Create(CultureInfo.InvariantCulture, $"; and {errors.Count - Shown} more") : string.Empty;
                throw new ModelSourceException($"index {description} has {errors.Count} bad entr{(errors.Count == 1 ? "y" : "ies")}: {string.Join("; ", errors.Take(Shown))}{more}");
            }

            return files;
        }
    }

    /// <summary>A string property, or null when it is missing, not a string, or not valid UTF-16 once unescaped.</summary>
    private static string? StringProperty(JsonElement entry, string name)
    {
        if (!entry.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
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
                throw new ModelSourceException($"GET {file.Location} answered {(int)response.StatusCode} {SourceText.Display(response.ReasonPhrase, 100)}") { IsTransient = IsTransient(response.StatusCode) };
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var opened = new OpenedSourceFile(stream, response) { Length = response.Content.Headers.ContentLength, Checksum = file.Checksum };
            response = null;
            return opened;
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException)
        {
            throw new ModelSourceException($"GET {file.Location} failed: {ex.Message}", ex) { IsTransient = true };
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
