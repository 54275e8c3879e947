using Microsoft.AspNetCore.Http.Features;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// The body size limit of a gRPC call whose first message the split has peeked at: it stays the gateway's
/// (<c>Gateway:MaxRequestBodyBytes</c>, enforced by Kestrel as the body streams). YARP lifts the limit of streaming
/// (gRPC) requests, which it can no longer do once the body has been read, and would log a warning for every call;
/// this view of the feature takes that request and keeps the limit.
/// </summary>
internal sealed class PeekedBodySizeLimit(IHttpMaxRequestBodySizeFeature inner) : IHttpMaxRequestBodySizeFeature
{
    public bool IsReadOnly => false;

    public long? MaxRequestBodySize
    {
        get => inner.MaxRequestBodySize;
        set
        {
            // The limit is already in force for this body; a request to change it is declined without an error.
        }
    }
}
