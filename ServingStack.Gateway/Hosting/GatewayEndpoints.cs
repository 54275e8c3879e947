using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace ServingStack.Gateway.Hosting;

/// <summary>Which Kestrel listener is REST and which gRPC, and their bound ports (port 0 in tests).</summary>
public sealed class GatewayEndpoints
{
    private ListenOptions? _rest;
    private ListenOptions? _grpc;

    public int? RestPort => (_rest?.EndPoint as IPEndPoint)?.Port;

    public int? GrpcPort => (_grpc?.EndPoint as IPEndPoint)?.Port;

    internal void SetListeners(ListenOptions rest, ListenOptions grpc)
    {
        _rest = rest;
        _grpc = grpc;
    }
}
