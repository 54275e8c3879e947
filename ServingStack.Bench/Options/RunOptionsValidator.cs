using System.Text.RegularExpressions;
using ServingStack.Bench.Safety;

namespace ServingStack.Bench.Options;

/// <summary>Checks <see cref="RunOptions"/> as a whole and returns every problem, never just the first.</summary>
public static partial class RunOptionsValidator
{
    public static IReadOnlyList<string> Validate(RunOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Url is not null)
        {
            if (options.Url.AbsolutePath != "/" || !string.IsNullOrEmpty(options.Url.Query))
            {
                errors.Add($"Option '--url' must be the server's base address (scheme, host, port), not '{options.Url}'.");
            }

            if (options.Protocol != BenchProtocol.Rest && options.Url.Scheme == Uri.UriSchemeHttps)
            {
                errors.Add("Option '--url' must use http:// for gRPC: the server speaks HTTP/2 without TLS (h2c).");
            }

            if (LoopbackGuard.Check(options.Url) is { } refused)
            {
                errors.Add(refused);
            }
        }

        if (options.Model.Length > 0 && !NamePattern().IsMatch(options.Model))
        {
            errors.Add($"Option '--model' must match [A-Za-z0-9_.-]+, not '{options.Model}'.");
        }

        if (options.Version is not null && !VersionPattern().IsMatch(options.Version))
        {
            errors.Add($"Option '--version' must be a positive whole number, not '{options.Version}'.");
        }

        if (options.Protocol != BenchProtocol.Rest && options.RestFormatGiven)
        {
            errors.Add("Option '--rest-format' only applies to '--protocol rest'.");
        }

        if (options.Protocol == BenchProtocol.Rest && options.Raw)
        {
            errors.Add("Option '--raw' only applies to '--protocol grpc' and 'tf-grpc' (for REST binary tensors use '--rest-format binary').");
        }

        if (!string.Equals(options.Input, RunOptions.RandomInput, StringComparison.OrdinalIgnoreCase) && !File.Exists(options.Input))
        {
            errors.Add($"Option '--input' must be 'random' or an existing JSON file; '{options.Input}' does not exist.");
        }

        errors.AddRange(options.Load.Validate());
        return errors;
    }

    [GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[1-9][0-9]{0,18}$")]
    private static partial Regex VersionPattern();
}
