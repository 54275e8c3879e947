using System.Runtime.InteropServices;
using Google.Protobuf;
using Grpc.Core;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>
/// Raw tensor bytes between protobuf <c>bytes</c> fields and tensors without copying: an input tensor is created over the
/// request's own bytes (the request message outlives the call), and a raw output is sent from the output's pooled buffer,
/// which the HTTP response keeps out of the pool until the message has been written.
/// </summary>
/// <remarks>
/// The wire format is little-endian and so are the hosts .NET serves on (x64, arm64); on a big-endian host the bytes are
/// still used as they are, as before. A .NET byte array's data starts 8-byte aligned, so a field whose offset in its array
/// is a multiple of the element size is aligned for ONNX Runtime; any other is copied into a pooled buffer.
/// </remarks>
public static class GrpcTensorBytes
{
    /// <summary>A tensor over <paramref name="bytes"/> (already checked against the shape); a copy when it cannot be wrapped.</summary>
    public static InferenceTensor Read(string name, TensorDataType type, long[] shape, ByteString bytes)
    {
        if (MemoryMarshal.TryGetArray(bytes.Memory, out var segment) && segment.Offset % type.ElementSize() == 0)
        {
            return InferenceTensor.Wrap(name, type, shape, segment);
        }

        var tensor = InferenceTensor.AllocateUninitialized(name, type, shape);
        bytes.Span.CopyTo(tensor.Bytes);
        return tensor;
    }

    /// <summary>
    /// The output's bytes for a response: wrapped without a copy when <paramref name="context"/> is an ASP.NET Core call
    /// that can keep the buffer alive until the response is written, else copied.
    /// </summary>
    public static ByteString Write(InferenceTensor output, ServerCallContext? context)
    {
        if (context is not null && output.LeaseBuffer() is { } lease)
        {
            if (TryKeepAlive(context, lease))
            {
                return UnsafeByteOperations.UnsafeWrap(output.Memory);
            }

            lease.Dispose();
        }

        return ByteString.CopyFrom(output.Bytes);
    }

    private static bool TryKeepAlive(ServerCallContext context, IDisposable lease)
    {
        HttpContext http;
        try
        {
            http = context.GetHttpContext();
        }
        catch (InvalidOperationException)
        {
            // Not an ASP.NET Core call (a test's own context): nothing outlives the handler to hold the buffer.
            return false;
        }

        // Disposed once the request has finished, after grpc-dotnet has written the response message.
        http.Response.RegisterForDispose(lease);
        return true;
    }
}
