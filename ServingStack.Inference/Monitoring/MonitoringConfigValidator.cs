using Microsoft.Extensions.Options;

namespace ServingStack.Inference.Monitoring;

/// <summary>
/// Reports every problem with <c>--monitoring_config_file</c> at once: what the reader found, then the path. The path is
/// only checked when monitoring is on (it is unused otherwise): it must be absolute, a plain URL path, and clear of the
/// server's own endpoints. Routing matches paths case-insensitively and ignores a trailing slash, so the check does too.
/// </summary>
public sealed class MonitoringConfigValidator : IValidateOptions<MonitoringConfig>
{
    // Endpoints of this server a monitoring path must neither replace nor shadow (exactly or as a parent folder).
    private static readonly string[] s_ownPaths = ["/metrics", "/healthz", "/ready", "/health", "/alive", "/v1", "/v2"];

    // gRPC methods are served as /{package}.{Service}/{Method} on the same server.
    private static readonly string[] s_grpcPrefixes = ["/tensorflow.", "/inference.", "/grpc."];

    public ValidateOptionsResult Validate(string? name, MonitoringConfig options)
    {
        var errors = new List<string>();
        var where = $"--monitoring_config_file '{options.Source}'";
        foreach (var error in options.ReadErrors)
        {
            errors.Add($"{where}: {error}");
        }

        if (options.ReadErrors.Count == 0 && options.PrometheusConfig.Enable)
        {
            ValidatePath(options.EffectivePath, where, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidatePath(string path, string where, List<string> errors)
    {
        var shown = ClientText.Cut(path);
        if (!path.StartsWith('/'))
        {
            errors.Add($"{where}: prometheus_config.path must be an absolute URL path starting with '/', not '{shown}'.");
            return;
        }

        foreach (var c in path)
        {
            if (!IsPathCharacter(c))
            {
                errors.Add($"{where}: prometheus_config.path '{shown}' has the character '{c}' (U+{(int)c:X4}); use letters, digits and - . _ ~ / only.");
                return;
            }
        }

        if (path.Contains("//", StringComparison.Ordinal) || path.Contains("/./", StringComparison.Ordinal) || path.Contains("/../", StringComparison.Ordinal) ||
            path.EndsWith("/.", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal))
        {
            errors.Add($"{where}: prometheus_config.path '{shown}' has an empty, '.' or '..' segment.");
            return;
        }

        var trimmed = path.Length > 1 ? path.TrimEnd('/') : path;
        foreach (var own in s_ownPaths)
        {
            if (trimmed.Equals(own, StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith(own + "/", StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{where}: prometheus_config.path '{shown}' collides with the server's own '{own}'; the default is {MonitoringConfig.DefaultPrometheusPath}.");
                return;
            }
        }

        foreach (var prefix in s_grpcPrefixes)
        {
            if (trimmed.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"{where}: prometheus_config.path '{shown}' is in the server's gRPC space ('{prefix}...').");
                return;
            }
        }
    }

    private static bool IsPathCharacter(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '.' or '_' or '~' or '/';
}
