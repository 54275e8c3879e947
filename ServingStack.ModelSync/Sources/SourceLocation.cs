namespace ServingStack.ModelSync.Sources;

/// <summary>A parsed <c>--source</c>: which kind of source, and where.</summary>
public sealed record SourceLocation(SourceKind Kind, string Text)
{
    /// <summary>S3 bucket.</summary>
    public string? Bucket { get; init; }

    /// <summary>S3 key prefix, empty or ending in '/'.</summary>
    public string Prefix { get; init; } = string.Empty;

    /// <summary>The index document of an HTTP source.</summary>
    public Uri? IndexUri { get; init; }

    /// <summary>Full path of a folder source.</summary>
    public string? Folder { get; init; }

    /// <summary>The index document's name when an HTTP source ends in '/'.</summary>
    public const string DefaultIndexName = "index.json";

    public static bool TryParse(string? text, out SourceLocation? location, out string? error)
    {
        location = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty";
            return false;
        }

        text = text.Trim();
        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            location = new SourceLocation(SourceKind.FileSystem, text) { Folder = Path.GetFullPath(text) };
            return true;
        }

        var scheme = text[..schemeEnd].ToLowerInvariant();
        switch (scheme)
        {
            case "s3":
            {
                var rest = text[(schemeEnd + 3)..];
                var slash = rest.IndexOf('/', StringComparison.Ordinal);
                var bucket = slash < 0 ? rest : rest[..slash];
                var prefix = slash < 0 ? string.Empty : rest[(slash + 1)..].Trim('/');
                if (bucket.Length == 0)
                {
                    error = $"'{text}' names no bucket (s3://bucket/prefix)";
                    return false;
                }

                location = new SourceLocation(SourceKind.S3, text) { Bucket = bucket, Prefix = prefix.Length == 0 ? string.Empty : prefix + "/" };
                return true;
            }

            case "http":
            case "https":
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
                {
                    error = $"'{text}' is not a valid URL";
                    return false;
                }

                if (uri.AbsolutePath.EndsWith('/'))
                {
                    uri = new Uri(uri, DefaultIndexName);
                }

                location = new SourceLocation(SourceKind.HttpIndex, text) { IndexUri = uri };
                return true;
            }

            case "file":
            {
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || !uri.IsFile)
                {
                    error = $"'{text}' is not a valid file URL";
                    return false;
                }

                location = new SourceLocation(SourceKind.FileSystem, text) { Folder = Path.GetFullPath(uri.LocalPath) };
                return true;
            }

            default:
                error = $"scheme '{scheme}' is not supported (s3://, http://, https://, file:// or a folder)";
                return false;
        }
    }
}
