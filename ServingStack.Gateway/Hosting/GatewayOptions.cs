using ServingStack.Gateway.Splits;

namespace ServingStack.Gateway.Hosting;

/// <summary>The <c>Gateway</c> section: listeners, limits, overrides, admin credential, canary analysis and splits.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>An IP address to bind, or <c>*</c> for every interface.</summary>
    public string ListenAddress { get; set; } = "*";

    /// <summary>REST (HTTP/1.1) listener; 0 picks a free port.</summary>
    public int RestPort { get; set; } = 8080;

    /// <summary>gRPC (h2c, HTTP/2 without TLS) listener; 0 picks a free port.</summary>
    public int GrpcPort { get; set; } = 8081;

    /// <summary>Largest request body accepted on either listener.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>The admin API key; with none (and no JWT admin role configured) the admin API is off.</summary>
    public string? AdminApiKey { get; set; }

    /// <summary>Header that carries the admin API key.</summary>
    public string AdminApiKeyHeader { get; set; } = "X-Api-Key";

    /// <summary>
    /// Whether the override headers (<see cref="CanaryHeader"/>, <see cref="TargetHeader"/>) are honoured at all; who may
    /// use them is <c>Gateway:Auth</c>'s <c>OverrideRole</c>, <c>AllowAnonymousOverrides</c> and the admin credential.
    /// </summary>
    public bool OverridesEnabled { get; set; } = true;

    /// <summary><c>always</c> sends to the canary, <c>never</c> to the stable target.</summary>
    public string CanaryHeader { get; set; } = "X-Canary";

    /// <summary>Names the target to use.</summary>
    public string TargetHeader { get; set; } = "X-Target";

    public CanaryAnalysisOptions CanaryAnalysis { get; set; } = new();

    /// <summary>Splits by model name, as at startup; reloads are read through <see cref="SplitsOptions"/>.</summary>
    public Dictionary<string, ModelSplitOptions> Splits { get; } = new(StringComparer.Ordinal);
}
