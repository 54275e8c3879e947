using Grpc.Core;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>Checks a gRPC call's failure: its status code and the fragments its message must name.</summary>
public static class RpcAssert
{
    public static async Task<RpcException> FailsAsync<T>(Task<T> call, StatusCode expected, params string[] fragments)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.True(ex.StatusCode == expected, $"expected {expected} but got {ex.StatusCode}: {ex.Status.Detail}");
        foreach (var fragment in fragments)
        {
            Assert.True(ex.Status.Detail.Contains(fragment, StringComparison.Ordinal), $"expected the error to contain '{fragment}' but it was: {ex.Status.Detail}");
        }

        return ex;
    }

    public static Task<RpcException> FailsAsync<T>(AsyncUnaryCall<T> call, StatusCode expected, params string[] fragments) =>
        FailsAsync(call.ResponseAsync, expected, fragments);
}
