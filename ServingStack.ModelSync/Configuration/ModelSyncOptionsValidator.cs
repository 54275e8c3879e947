using Microsoft.Extensions.Options;
using ServingStack.ModelSync.Sources;

namespace ServingStack.ModelSync.Configuration;

/// <summary>Collects every problem in <see cref="ModelSyncOptions"/>, so one failed start lists them all.</summary>
public sealed class ModelSyncOptionsValidator : IValidateOptions<ModelSyncOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelSyncOptions options)
    {
        var errors = new List<string>();
        SourceLocation? source = null;
        if (string.IsNullOrWhiteSpace(options.Source))
        {
            errors.Add("ModelSync:Source (--source) is required: s3://bucket/prefix, http(s)://host/path/index.json, or a folder.");
        }
        else if (!SourceLocation.TryParse(options.Source, out source, out var sourceError))
        {
            errors.Add($"ModelSync:Source (--source) {sourceError}.");
        }

        string? target = null;
        if (string.IsNullOrWhiteSpace(options.Target))
        {
            errors.Add("ModelSync:Target (--target) is required: the server's model repository folder.");
        }
        else
        {
            try
            {
                target = Path.GetFullPath(options.Target);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
            {
                errors.Add($"ModelSync:Target (--target) '{options.Target}' is not a valid path: {ex.Message}");
            }
        }

        if (source?.Folder is { } folder && target is not null && (IsSameOrInside(target, folder) || IsSameOrInside(folder, target)))
        {
            errors.Add($"ModelSync:Source '{folder}' and ModelSync:Target '{target}' must not be the same folder or inside one another.");
        }

        if (!Duration.TryParse(options.Interval, out var interval))
        {
            errors.Add($"ModelSync:Interval (--interval) must be a duration such as 30s, 5m, 1h or 00:00:30, not '{options.Interval}'.");
        }
        else if (interval < TimeSpan.FromMilliseconds(100) || interval > TimeSpan.FromDays(1))
        {
            errors.Add($"ModelSync:Interval (--interval) must be between 100ms and 1d, not '{options.Interval}'.");
        }

        if (!Duration.TryParse(options.NoProgressTimeout, out var noProgress))
        {
            errors.Add($"ModelSync:NoProgressTimeout must be a duration such as 30s, 2m or 00:01:00, not '{options.NoProgressTimeout}'.");
        }
        else if (noProgress < TimeSpan.FromSeconds(1) || noProgress > TimeSpan.FromHours(1))
        {
            errors.Add($"ModelSync:NoProgressTimeout must be between 1s and 1h, not '{options.NoProgressTimeout}'.");
        }

        if (options.Keep < 0)
        {
            errors.Add($"ModelSync:Keep (--keep) must be >= 0 (0 keeps every version), not {options.Keep}.");
        }

        if (!string.IsNullOrWhiteSpace(options.S3Endpoint))
        {
            if (!Uri.TryCreate(options.S3Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
            {
                errors.Add($"ModelSync:S3Endpoint (--s3-endpoint) must be an http(s) URL, not '{options.S3Endpoint}'.");
            }

            if (source is not null && source.Kind != SourceKind.S3)
            {
                errors.Add($"ModelSync:S3Endpoint (--s3-endpoint) applies to s3:// sources only; the source is '{options.Source}'.");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsSameOrInside(string path, string folder)
    {
        var a = Path.TrimEndingDirectorySeparator(path);
        var b = Path.TrimEndingDirectorySeparator(folder);
        return string.Equals(a, b, StringComparison.Ordinal) || a.StartsWith(b + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
