using Yarp.ReverseProxy.Configuration;

namespace ServingStack.Gateway.Security;

/// <summary>
/// The model servers' admin operations (Open Inference's repository API, TF Serving's config reload, Triton's gRPC
/// repository calls) change what every client is served, so through the gateway they need the gateway's admin
/// credential, not any inference credential. Each gets a route of its own with <see cref="AuthSchemes.AdminPolicy"/>,
/// to the cluster of the catch-all route (explicit or derived) that would otherwise carry it; being more specific, it
/// wins over that catch-all. An explicit route with the same path is left alone (it must name its own policy).
/// </summary>
public static class BackendAdminRoutes
{
    /// <summary>Route id suffix → path; the REST repository API by prefix, the gRPC calls exactly.</summary>
    public static IReadOnlyList<(string Id, string Path)> Paths { get; } =
    [
        ("v2-repository", "/v2/repository/{**rest}"),
        ("grpc-tf-model-reload", "/tensorflow.serving.ModelService/HandleReloadConfigRequest"),
        ("grpc-repository-index", "/inference.GRPCInferenceService/RepositoryIndex"),
        ("grpc-repository-load", "/inference.GRPCInferenceService/RepositoryModelLoad"),
        ("grpc-repository-unload", "/inference.GRPCInferenceService/RepositoryModelUnload"),
    ];

    /// <summary>The admin routes for <paramref name="derived"/> (the default routes) and the explicit <c>ReverseProxy:Routes</c>.</summary>
    public static IReadOnlyList<RouteConfig> Derive(IConfiguration configuration, IReadOnlyList<RouteConfig> derived)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(derived);
        var parents = new List<(string Path, string Cluster, IReadOnlyList<string>? Hosts)>();
        var explicitPaths = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var route in configuration.GetSection("ReverseProxy:Routes").GetChildren())
        {
            if (route["Match:Path"] is not { Length: > 0 } path)
            {
                continue;
            }

            explicitPaths.Add(path);
            if (route["ClusterId"] is { Length: > 0 } cluster)
            {
                var hosts = route.GetSection("Match:Hosts").GetChildren().Select(h => h.Value!).Where(h => h.Length > 0).ToArray();
                parents.Add((path, cluster, hosts.Length > 0 ? hosts : null));
            }
        }

        foreach (var route in derived)
        {
            if (route.Match.Path is { Length: > 0 } path && route.ClusterId is { Length: > 0 } cluster)
            {
                parents.Add((path, cluster, route.Match.Hosts));
            }
        }

        var routes = new List<RouteConfig>();
        foreach (var (id, path) in Paths)
        {
            if (explicitPaths.Contains(path))
            {
                continue;
            }

            // The most specific catch-all that covers the admin path is the route that would carry it.
            var literal = path.EndsWith("{**rest}", StringComparison.Ordinal) ? path[..^"{**rest}".Length] : path;
            (string Path, string Cluster, IReadOnlyList<string>? Hosts)? best = null;
            var bestLength = -1;
            foreach (var parent in parents)
            {
                var prefix = CatchAllPrefix(parent.Path);
                if (prefix is not null && prefix.Length > bestLength && literal.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    best = parent;
                    bestLength = prefix.Length;
                }
            }

            if (best is { } carrier)
            {
                routes.Add(new RouteConfig
                {
                    RouteId = "admin-" + id,
                    ClusterId = carrier.Cluster,
                    AuthorizationPolicy = AuthSchemes.AdminPolicy,
                    Match = new RouteMatch { Path = path, Hosts = carrier.Hosts },
                });
            }
        }

        return routes;
    }

    /// <summary><c>/v2/</c> for <c>/v2/{**rest}</c> (any catch-all parameter name); null for a path without a trailing catch-all.</summary>
    private static string? CatchAllPrefix(string path)
    {
        var open = path.LastIndexOf("{**", StringComparison.Ordinal);
        return open >= 0 && path.EndsWith('}') && path.IndexOf('{', StringComparison.Ordinal) == open ? path[..open] : null;
    }
}
