using System.Globalization;
using Yarp.ReverseProxy.Configuration;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// The routes the gateway needs, derived from its splits (<c>Gateway:Splits</c>), so a deployment configures clusters
/// and splits only (and no value with braces, which some manifest tools read as placeholders): TF Serving REST
/// (<c>/v1</c>), Open Inference REST (<c>/v2</c>) to the stable target's <c>Cluster</c>; TF Serving gRPC
/// (<c>PredictionService</c>, <c>ModelService</c>) and Open Inference gRPC to its <c>GrpcCluster</c>. The stable target is
/// that of the first split by model name (the split itself still reassigns each request of its model), or, when set,
/// <c>Gateway:DefaultCluster</c> and <c>Gateway:DefaultGrpcCluster</c>. A route in <c>ReverseProxy:Routes</c> with the
/// same id or the same path wins over the default.
/// </summary>
public static class DefaultRoutes
{
    public const string RoutesSection = "ReverseProxy:Routes";

    /// <summary>Route id → path, REST first, then gRPC.</summary>
    public static IReadOnlyList<(string Id, string Path, bool Grpc)> Paths { get; } =
    [
        ("v1", "/v1/{**rest}", false),
        ("v2", "/v2/{**rest}", false),
        ("grpc", "/inference.GRPCInferenceService/{**rest}", true),
        ("grpc-tf-prediction", "/tensorflow.serving.PredictionService/{**rest}", true),
        ("grpc-tf-model", "/tensorflow.serving.ModelService/{**rest}", true),
    ];

    public static IReadOnlyList<RouteConfig> Derive(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var (rest, grpc) = configuration["Gateway:DefaultCluster"] is { Length: > 0 } defaultCluster
            ? (defaultCluster, configuration["Gateway:DefaultGrpcCluster"] is { Length: > 0 } g ? g : null)
            : StableClusters(configuration.GetSection("Gateway:Splits")) ?? (null, null);
        if (rest is null && grpc is null)
        {
            return [];
        }

        var explicitIds = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var explicitPaths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in configuration.GetSection(RoutesSection).GetChildren())
        {
            explicitIds.Add(route.Key);
            if (route["Match:Path"] is { Length: > 0 } path)
            {
                explicitPaths.Add(path);
            }
        }

        var routes = new List<RouteConfig>();
        foreach (var (id, path, isGrpc) in Paths)
        {
            var cluster = isGrpc ? grpc : rest;
            if (cluster is null || explicitIds.Contains(id) || explicitPaths.Contains(path))
            {
                continue;
            }

            routes.Add(new RouteConfig { RouteId = id, ClusterId = cluster, Match = new RouteMatch { Path = path } });
        }

        return routes;
    }

    /// <summary>The REST and gRPC clusters of the stable target of the first split (by model name) that has one.</summary>
    private static (string? RestCluster, string? GrpcCluster)? StableClusters(IConfigurationSection splits)
    {
        foreach (var split in splits.GetChildren().OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var targets = split.GetSection("Targets").GetChildren()
                .OrderBy(t => int.TryParse(t.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : int.MaxValue)
                .ToList();
            var stableName = split["Stable"];
            var stable = stableName is { Length: > 0 }
                ? targets.FirstOrDefault(t => string.Equals(t["Name"], stableName, StringComparison.Ordinal))
                : targets.FirstOrDefault();
            if (stable?["Cluster"] is { Length: > 0 } cluster)
            {
                return (cluster, stable["GrpcCluster"] is { Length: > 0 } grpc ? grpc : null);
            }
        }

        return null;
    }
}
