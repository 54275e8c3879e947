using System.Globalization;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.TfServing;

/// <summary>
/// Parses what follows <c>/v1/models/</c>: <c>{m}[/versions/{v}|/labels/{l}][/metadata]</c> for GET and
/// <c>{m}[/versions/{v}|/labels/{l}]:{verb}</c> for POST.
/// </summary>
public readonly record struct TfServingPath(ModelTarget Target, string? Verb, bool Metadata)
{
    public static bool TryParse(string path, bool isPost, out TfServingPath result, out ServingError? error)
    {
        result = default;
        string? verb = null;
        if (isPost)
        {
            var colon = path.LastIndexOf(':');
            if (colon < 0)
            {
                error = ServingError.NotFound($"malformed request: POST /v1/models/{ClientText.Cut(path)}; expected /v1/models/{{model}}[/versions/{{version}}|/labels/{{label}}]:predict");
                return false;
            }

            verb = path[(colon + 1)..];
            path = path[..colon];
        }

        var segments = path.Split('/');
        var metadata = false;
        if (!isPost && segments.Length is 2 or 4 && segments[^1] == "metadata")
        {
            metadata = true;
            segments = segments[..^1];
        }

        if (segments.Length == 0 || segments[0].Length == 0)
        {
            error = ServingError.NotFound("malformed request: the model name is missing from the URL");
            return false;
        }

        if (segments.Length == 1)
        {
            result = new TfServingPath(new ModelTarget(segments[0], null, null), verb, metadata);
            error = null;
            return true;
        }

        if (segments.Length == 3 && segments[1] == "versions")
        {
            if (!long.TryParse(segments[2], NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version <= 0)
            {
                error = ServingError.InvalidArgument($"version '{ClientText.Cut(segments[2])}' in the URL is not a positive integer");
                return false;
            }

            result = new TfServingPath(new ModelTarget(segments[0], version, null), verb, metadata);
            error = null;
            return true;
        }

        if (segments.Length == 3 && segments[1] == "labels" && segments[2].Length > 0)
        {
            result = new TfServingPath(new ModelTarget(segments[0], null, segments[2]), verb, metadata);
            error = null;
            return true;
        }

        error = ServingError.NotFound($"malformed request: /v1/models/{ClientText.Cut(path)}; expected /v1/models/{{model}}[/versions/{{version}}|/labels/{{label}}][/metadata]");
        return false;
    }
}
