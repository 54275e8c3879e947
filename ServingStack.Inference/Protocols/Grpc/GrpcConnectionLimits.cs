namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>HTTP/2 limits of the gRPC listener.</summary>
public static class GrpcConnectionLimits
{
    /// <summary>
    /// Concurrent streams one client connection may open (Kestrel's default is 100). Kestrel sizes each connection's
    /// queue of pending output by this number and aborts the whole connection, every call on it, when the queue
    /// overflows; calls that a client resets (deadlines of a few milliseconds under load) leave entries behind faster than
    /// the queue drains, so with 100 a burst of expired calls took healthy calls down with them (measured: 5,000 calls
    /// with 5 ms deadlines, 200 at a time, aborted connections in every run; none at 1,000). The streams themselves cost
    /// little until they carry data, and a request's size stays bounded by Serving:MaxRequestBodyBytes.
    /// </summary>
    public const int MaxStreamsPerConnection = 1000;
}
