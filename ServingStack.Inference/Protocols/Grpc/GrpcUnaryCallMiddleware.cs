using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Grpc.Net.Compression;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>
/// Prepares unary calls to the inference services (<see cref="InferenceGrpcServiceAttribute"/>) before grpc-dotnet
/// handles them. Both steps keep a burst of calls that time out, or of clients that give up, from costing more than
/// the calls themselves:
/// <list type="bullet">
/// <item>The deadline: the <c>grpc-timeout</c> header becomes a <see cref="GrpcCallDeadline"/> and is removed, so
/// grpc-dotnet starts no deadline timer of its own. That timer answers DEADLINE_EXCEEDED and resets the stream while the
/// handler may still be writing (an error log: "Content-Length mismatch"), races the client's own reset at the same
/// moment (clients then see CANCELLED or UNAVAILABLE instead of DEADLINE_EXCEEDED), and doubles the HTTP/2 frames every
/// expired call costs. The services bound the queue wait by the deadline themselves, and the client's reset at its
/// deadline cancels the call.</item>
/// <item>The request: read in full here (as grpc-dotnet would, no copy and no more memory) and handed to grpc-dotnet
/// as read (<see cref="ReadRequestBody"/>), so a client that resets the stream mid-upload ends the call quietly instead
/// of as grpc-dotnet's "Error when executing service method" with a stack trace.</item>
/// <item>The framing: a body that is not exactly one gRPC message (a 5-byte header, then as many bytes as it
/// declares), a compressed flag other than 0 or 1, a compressed message without <c>grpc-encoding</c> or whose gzip or
/// deflate data does not inflate is INVALID_ARGUMENT naming what is wrong, and a declared or inflated size beyond the
/// limit RESOURCE_EXHAUSTED; grpc-dotnet would answer these INTERNAL or UNKNOWN, as if the server were at fault.</item>
/// </list>
/// </summary>
public sealed partial class GrpcUnaryCallMiddleware(
    RequestDelegate next, TimeProvider time, IOptions<GrpcServiceOptions> grpc, ILogger<GrpcUnaryCallMiddleware> logger)
{
    private const int HeaderSize = 5;

    // grpc-dotnet's own defaults, unless the options replace them: the check inflates as grpc-dotnet will.
    private static readonly ICompressionProvider[] s_defaultProviders =
        [new GzipCompressionProvider(CompressionLevel.Fastest), new DeflateCompressionProvider(CompressionLevel.Fastest)];

    private readonly long _maxMessageBytes = grpc.Value.MaxReceiveMessageSize ?? int.MaxValue;
    private readonly IList<ICompressionProvider> _providers = grpc.Value.CompressionProviders;

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var method = endpoint?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null || method.Type != MethodType.Unary || endpoint!.Metadata.GetMetadata<InferenceGrpcServiceAttribute>() is null)
        {
            await next(context);
            return;
        }

        var headers = context.Request.Headers;
        if (headers.Remove(GrpcCallDeadline.TimeoutHeader, out var timeout) &&
            GrpcCallDeadline.TryParseTimeout(timeout.ToString(), out var budget))
        {
            context.Features.Set(new GrpcCallDeadline(time.GetUtcNow() + budget, budget));
        }

        if (await ReadRequestAsync(context, method.FullName))
        {
            await next(context);
        }
    }

    /// <summary>Reads the whole request into the body pipe without consuming it; false when the call ended here.</summary>
    private async Task<bool> ReadRequestAsync(HttpContext context, string method)
    {
        var reader = context.Request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                if (result.IsCompleted && FramingError(context.Request, result.Buffer) is { } framing)
                {
                    reader.AdvanceTo(result.Buffer.End);
                    WriteStatus(context, framing.Code, $"the {ClientText.Cut(method)} request is not one well-formed gRPC message: {framing.Message}");
                    return false;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    // Nothing consumed: grpc-dotnet's read gets this very read back, with every byte.
                    context.Features.Set<IRequestBodyPipeFeature>(new ReadRequestBody(reader, result));
                    return true;
                }

                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (Exception ex) when (ex is IOException || (ex is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            Log.ClientGaveUp(logger, ClientText.Cut(method));
            return false;
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's body limit (Serving:MaxRequestBodyBytes); answered as gRPC rather than as the HTTP 413 it would be.
            var code = ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? StatusCode.ResourceExhausted : StatusCode.InvalidArgument;
            WriteStatus(context, code, $"the request could not be read: {ex.Message}");
            return false;
        }
    }

    /// <summary>What is wrong with the framing of a unary call's whole body; null when it is one well-formed message.</summary>
    private (StatusCode Code, string Message)? FramingError(HttpRequest request, ReadOnlySequence<byte> body)
    {
        if (body.Length < HeaderSize)
        {
            return (StatusCode.InvalidArgument, $"the body has {body.Length} bytes, fewer than the 5-byte message header");
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        body.Slice(0, HeaderSize).CopyTo(header);
        var flag = header[0];
        var declared = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (flag > 1)
        {
            return (StatusCode.InvalidArgument, $"the compressed flag is {flag}; it must be 0 or 1");
        }

        if (declared > _maxMessageBytes)
        {
            return (StatusCode.ResourceExhausted, $"the message declares {declared} bytes, more than the limit of {_maxMessageBytes}");
        }

        var present = body.Length - HeaderSize;
        if (declared > present)
        {
            return (StatusCode.InvalidArgument, $"the message declares {declared} bytes but the body holds {present} after the header");
        }

        if (declared < present)
        {
            return (StatusCode.InvalidArgument, $"{present - declared} bytes follow the {declared}-byte message; a unary call takes exactly one message");
        }

        if (flag == 0)
        {
            return null;
        }

        var encoding = request.Headers["grpc-encoding"].ToString();
        if (encoding.Length == 0 || string.Equals(encoding, "identity", StringComparison.OrdinalIgnoreCase))
        {
            return (StatusCode.InvalidArgument, "the message is flagged compressed but the call names no grpc-encoding");
        }

        return InflateError(encoding, body.Slice(HeaderSize));
    }

    /// <summary>
    /// Inflates the message into nothing, as far as the size limit, with the provider grpc-dotnet will use: data that
    /// does not inflate, or inflates beyond the limit, is refused before grpc-dotnet inflates it into memory. An
    /// encoding without a provider is grpc-dotnet's to refuse (UNIMPLEMENTED).
    /// </summary>
    private (StatusCode Code, string Message)? InflateError(string encoding, ReadOnlySequence<byte> compressed)
    {
        if (Provider(encoding) is not { } provider)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var source = new ReadOnlySequenceStream(compressed);
            using var inflater = provider.CreateDecompressionStream(source);
            long total = 0;
            int read;
            while ((read = inflater.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += read;
                if (total > _maxMessageBytes)
                {
                    return (StatusCode.ResourceExhausted, $"the {ClientText.Cut(encoding)} message inflates to more than the limit of {_maxMessageBytes} bytes");
                }
            }

            return null;
        }
        catch (InvalidDataException ex)
        {
            return (StatusCode.InvalidArgument, $"the message is not valid {ClientText.Cut(encoding)} data: {ex.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private ICompressionProvider? Provider(string encoding)
    {
        foreach (var provider in _providers.Count > 0 ? _providers : s_defaultProviders)
        {
            if (string.Equals(provider.EncodingName, encoding, StringComparison.OrdinalIgnoreCase))
            {
                return provider;
            }
        }

        return null;
    }

    /// <summary>A trailers-only gRPC response: the status travels in the response headers.</summary>
    private static void WriteStatus(HttpContext context, StatusCode code, string message)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }

    /// <summary>A read-only stream over the request's buffered bytes, so inflating them copies nothing.</summary>
    private sealed class ReadOnlySequenceStream(ReadOnlySequence<byte> sequence) : Stream
    {
        private ReadOnlySequence<byte> _rest = sequence;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(buffer.Length, _rest.Length);
            _rest.Slice(0, count).CopyTo(buffer);
            _rest = _rest.Slice(count);
            return count;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 210, EventName = "GrpcClientGaveUpDuringUpload", Level = LogLevel.Debug,
            Message = "The client reset {Method} while sending the request; the call ended without an answer")]
        public static partial void ClientGaveUp(ILogger logger, string method);
    }
}
