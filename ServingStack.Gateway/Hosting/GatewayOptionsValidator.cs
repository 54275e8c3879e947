using Microsoft.Extensions.Options;
using ServingStack.Gateway.Splits;

namespace ServingStack.Gateway.Hosting;

/// <summary>Reports every problem in the <c>Gateway</c> section at once, splits included.</summary>
public sealed class GatewayOptionsValidator(IConfiguration configuration) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        CheckPort(errors, "RestPort", options.RestPort);
        CheckPort(errors, "GrpcPort", options.GrpcPort);
        if (options.RestPort != 0 && options.RestPort == options.GrpcPort)
        {
            errors.Add("Gateway: RestPort and GrpcPort must differ (one protocol per port without TLS).");
        }

        if (options.MaxRequestBodyBytes <= 0)
        {
            errors.Add($"Gateway:MaxRequestBodyBytes must be positive, not {options.MaxRequestBodyBytes}.");
        }

        if (options.AdminApiKey is { Length: > 0 and < 16 })
        {
            errors.Add("Gateway:AdminApiKey must be at least 16 characters.");
        }

        if (string.IsNullOrWhiteSpace(options.CanaryHeader) || string.IsNullOrWhiteSpace(options.TargetHeader))
        {
            errors.Add("Gateway: CanaryHeader and TargetHeader must not be empty.");
        }

        var analysis = options.CanaryAnalysis;
        if (analysis.WindowSeconds <= 0)
        {
            errors.Add($"Gateway:CanaryAnalysis:WindowSeconds must be positive, not {analysis.WindowSeconds}.");
        }

        if (analysis.MinRequests < 1)
        {
            errors.Add($"Gateway:CanaryAnalysis:MinRequests must be >= 1, not {analysis.MinRequests}.");
        }

        if (analysis.ConsecutiveWindows < 1)
        {
            errors.Add($"Gateway:CanaryAnalysis:ConsecutiveWindows must be >= 1, not {analysis.ConsecutiveWindows}.");
        }

        if (analysis.ErrorRateMargin is < 0 or > 1)
        {
            errors.Add($"Gateway:CanaryAnalysis:ErrorRateMargin must be within [0, 1], not {analysis.ErrorRateMargin}.");
        }

        if (analysis.LatencyFactor < 1)
        {
            errors.Add($"Gateway:CanaryAnalysis:LatencyFactor must be >= 1, not {analysis.LatencyFactor}.");
        }

        var clusters = KnownClusters(configuration);
        foreach (var (model, split) in options.Splits)
        {
            SplitValidation.Validate(model, split, clusters, errors, analysis.Enabled);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Cluster ids from YARP's own configuration.</summary>
    internal static HashSet<string> KnownClusters(IConfiguration configuration) =>
        configuration.GetSection("ReverseProxy:Clusters").GetChildren().Select(c => c.Key).ToHashSet(StringComparer.Ordinal);

    private static void CheckPort(List<string> errors, string name, int port)
    {
        if (port is < 0 or > 65535)
        {
            errors.Add($"Gateway:{name} must be within [0, 65535], not {port}.");
        }
    }
}
