using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ServingStack.Inference.Hosting;

/// <summary>
/// Which Kestrel listener serves which protocol, and the port each is bound to. Kestrel's own address list
/// (<c>IServerAddressesFeature</c>) only lists URLs, which look alike for the REST and gRPC listeners; with port 0 (tests)
/// nothing else says which is which.
/// </summary>
public sealed class ServingEndpoints
{
    private ListenOptions? _rest;
    private ListenOptions? _grpc;

    /// <summary>The REST listener's port once the server has started (Kestrel writes the bound endpoint back).</summary>
    public int? RestPort => Port(_rest);

    /// <summary>The gRPC (h2c) listener's port once the server has started.</summary>
    public int? GrpcPort => Port(_grpc);

    internal void SetListeners(ListenOptions rest, ListenOptions grpc)
    {
        _rest = rest;
        _grpc = grpc;
    }

    private static int? Port(ListenOptions? listener) => (listener?.EndPoint as IPEndPoint)?.Port;
}
