namespace ServingStack.Gateway.Routing;

/// <summary>Reads the model from REST inference paths and inserts a version or label pin after it.</summary>
public static class InferencePath
{
    private const string V1 = "/v1/models/";
    private const string V2 = "/v2/models/";

    public static bool TryParse(string path, out InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(path);
        request = default;
        InferenceProtocol protocol;
        if (path.StartsWith(V1, StringComparison.Ordinal))
        {
            protocol = InferenceProtocol.TfServingRest;
        }
        else if (path.StartsWith(V2, StringComparison.Ordinal))
        {
            protocol = InferenceProtocol.OpenInferenceRest;
        }
        else
        {
            return false;
        }

        var start = V1.Length;
        var end = start;
        // TF Serving ends the model (or pin) with ':verb'; both end it with '/'.
        while (end < path.Length && path[end] != '/' && (protocol != InferenceProtocol.TfServingRest || path[end] != ':'))
        {
            end++;
        }

        if (end == start)
        {
            return false;
        }

        var rest = path.AsSpan(end);
        var pinned = rest.StartsWith("/versions/", StringComparison.Ordinal) || rest.StartsWith("/labels/", StringComparison.Ordinal);
        request = new InferenceRequest(protocol, path[start..end], end, pinned);
        return true;
    }

    /// <summary>The path with <c>/versions/{v}</c> or (v1 only) <c>/labels/{l}</c> after the model; unchanged without a pin.</summary>
    public static string Pin(string path, InferenceRequest request, long? version, string? label)
    {
        ArgumentNullException.ThrowIfNull(path);
        string? pin = request.Protocol switch
        {
            InferenceProtocol.TfServingRest when label is not null => $"/labels/{label}",
            InferenceProtocol.TfServingRest or InferenceProtocol.OpenInferenceRest when version is not null => $"/versions/{version}",
            _ => null,
        };
        return pin is null || request.Pinned ? path : string.Concat(path.AsSpan(0, request.ModelEnd), pin, path.AsSpan(request.ModelEnd));
    }
}
