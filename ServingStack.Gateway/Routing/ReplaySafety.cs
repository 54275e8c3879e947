namespace ServingStack.Gateway.Routing;

/// <summary>
/// Which requests may reach a model server twice: reads and inference, which change nothing on the server; not the
/// repository's load and unload, nor TF Serving's config reload. Any request that never reached a server may be re-sent.
/// </summary>
public static class ReplaySafety
{
    public static bool MaySendTwice(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            return true;
        }

        if (path.StartsWith("/v1/models/", StringComparison.Ordinal))
        {
            return path.EndsWith(":predict", StringComparison.Ordinal) || path.EndsWith(":classify", StringComparison.Ordinal)
                || path.EndsWith(":regress", StringComparison.Ordinal);
        }

        if (path.StartsWith("/v2/models/", StringComparison.Ordinal))
        {
            return path.EndsWith("/infer", StringComparison.Ordinal);
        }

        if (path == "/v2/repository/index")
        {
            return true;
        }

        // gRPC: the calls that name a model (inference, readiness, metadata, status) and the server-wide reads.
        return GrpcModelNameReader.FieldOf(path) != GrpcModelField.None
            || path is "/inference.GRPCInferenceService/ServerLive" or "/inference.GRPCInferenceService/ServerReady"
                or "/inference.GRPCInferenceService/ServerMetadata" or "/inference.GRPCInferenceService/RepositoryIndex";
    }
}
