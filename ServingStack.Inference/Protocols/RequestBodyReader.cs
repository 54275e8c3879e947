using System.Buffers;
using System.IO.Compression;
using Microsoft.AspNetCore.Http.Features;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// Reads a whole request body into a pooled buffer, refusing bodies over the configured limit with 413. A body sent
/// with <c>Content-Encoding: gzip</c> or <c>deflate</c> (as tritonclient's request compression sends it) is decompressed
/// on the way in, and the limit applies to what it decompresses to, so a small compressed bomb costs no more than the
/// limit.
/// </summary>
public static class RequestBodyReader
{
    public static async ValueTask<(PooledBuffer? Body, ServingError? Error)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        // One array holds the body, whatever the configured limit.
        limit = Math.Min(limit, Array.MaxLength - 1L);
        if (request.ContentLength > limit)
        {
            return (null, TooLarge(request, limit));
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var (body, encoding, error) = Decoded(request);
        if (error is not null)
        {
            return (null, error);
        }

        // Only a decompressor is ours to dispose; the request's own stream belongs to the server.
        var decompressor = encoding is null ? null : body;
        await using (decompressor)
        {
            var expected = encoding is null ? request.ContentLength ?? 16 * 1024 : 16 * 1024;
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(expected, 1024, limit + 1));
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, limit + 1));
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }

                    var read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                    if (read == 0)
                    {
                        break;
                    }

                    length += read;
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (null, TooLarge(request, limit, encoding));
                    }
                }

                return (new PooledBuffer(buffer, length), null);
            }
            catch (BadHttpRequestException ex)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? TooLarge(request, limit)
                    : ServingError.InvalidArgument($"could not read the request body: {ex.Message}"));
            }
            catch (InvalidDataException ex)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, ServingError.InvalidArgument($"the request body is not valid {encoding} data: {ex.Message}"));
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }
    }

    /// <summary>The body as sent, or decompressed for a Content-Encoding we speak; 415 for any other.</summary>
    private static (Stream Body, string? Encoding, ServingError? Error) Decoded(HttpRequest request)
    {
        var header = request.Headers.ContentEncoding;
        if (header.Count == 0)
        {
            return (request.Body, null, null);
        }

        var encoding = header.ToString().Trim();
        if (encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return (request.Body, null, null);
        }

        if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
        {
            return (new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true), "gzip", null);
        }

        // HTTP's "deflate" is the zlib format (RFC 9110), which is what tritonclient sends.
        if (encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase))
        {
            return (new ZLibStream(request.Body, CompressionMode.Decompress, leaveOpen: true), "deflate", null);
        }

        return (Stream.Null, null, new ServingError(ServingErrorCode.InvalidArgument,
            $"Content-Encoding '{ClientText.Cut(encoding)}' is not supported; send the body as is, or with gzip or deflate", StatusCodes.Status415UnsupportedMediaType));
    }

    /// <summary>
    /// The rest of an oversized body is never read, so the connection cannot carry another request: say so, or a
    /// client that reuses it (HttpClient does) fails its next request when the server drops it.
    /// </summary>
    private static ServingError TooLarge(HttpRequest request, long limit, string? encoding = null)
    {
        request.HttpContext.Response.Headers.Connection = "close";
        var error = ServingError.PayloadTooLarge(limit);
        return encoding is null ? error : error with { Message = $"the {encoding} request body decompresses to more than {limit} bytes (Serving:MaxRequestBodyBytes)" };
    }
}
