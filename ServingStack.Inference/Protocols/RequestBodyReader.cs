using System.Buffers;
using Microsoft.AspNetCore.Http.Features;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>Reads a whole request body into a pooled buffer, refusing bodies over the configured limit with 413.</summary>
public static class RequestBodyReader
{
    public static async ValueTask<(PooledBuffer? Body, ServingError? Error)> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, TooLarge(request, limit));
        }

        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            sizeFeature.MaxRequestBodySize = limit;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 16 * 1024, 1024, limit + 1));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, TooLarge(request, limit));
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
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>
    /// The rest of an oversized body is never read, so the connection cannot carry another request: say so, or a
    /// client that reuses it (HttpClient does) fails its next request when the server drops it.
    /// </summary>
    private static ServingError TooLarge(HttpRequest request, long limit)
    {
        request.HttpContext.Response.Headers.Connection = "close";
        return ServingError.PayloadTooLarge(limit);
    }
}
