using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>
/// The admin key on gRPC, as the repository API checks it on REST: metadata <c>authorization: Bearer KEY</c> or
/// <c>x-admin-key: KEY</c>, compared in constant time. With no key configured the guarded calls are off.
/// </summary>
public static class GrpcAdminKey
{
    public const string HeaderName = "x-admin-key";

    public static ServingError? Authorize(ServerCallContext context, string? key, string what)
    {
        if (string.IsNullOrEmpty(key))
        {
            return new ServingError(ServingErrorCode.PermissionDenied,
                $"{what} is off: set Serving:AdminApiKey (environment Serving__AdminApiKey) to turn it on");
        }

        var headers = context.RequestHeaders;
        var presented = headers.GetValue(HeaderName);
        var authorization = headers.GetValue("authorization");
        if (presented is null && authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }

        if (string.IsNullOrEmpty(presented))
        {
            return new ServingError(ServingErrorCode.Unauthenticated, $"{what} needs the admin key (metadata authorization: Bearer KEY, or {HeaderName})");
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key))
            ? null
            : new ServingError(ServingErrorCode.Unauthenticated, "the admin key is not valid");
    }
}
