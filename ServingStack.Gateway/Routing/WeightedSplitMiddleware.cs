using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Canary;
using ServingStack.Gateway.Hosting;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Runs first in YARP's proxy pipeline: finds the model, picks the split's target (override header, sticky hash or
/// weighted draw), pins REST requests to the target's version or label, reassigns the request to the target's cluster,
/// and records the outcome for metrics and canary analysis. Requests of models without a split, and REST requests that
/// already name a version or label, keep the route's own cluster.
/// </summary>
public sealed partial class WeightedSplitMiddleware(
    SplitRegistry registry,
    IProxyStateLookup proxyState,
    GatewayMetrics metrics,
    CanaryAnalyzer analyzer,
    IOptions<GatewayOptions> options,
    ILogger<WeightedSplitMiddleware> logger)
{
    public const string ServedByHeader = "X-Served-By";
    private const string GrpcPrefix = "/inference.GRPCInferenceService/";

    private readonly GatewayOptions _options = options.Value;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = await ReadRequestAsync(context);
        if (request is not { } inference || registry.Get(inference.Model) is not { } split || inference.Pinned)
        {
            await next(context);
            return;
        }

        var grpc = inference.Protocol == InferenceProtocol.OpenInferenceGrpc;
        if (grpc && split.Targets.Any(t => t.GrpcCluster is null))
        {
            await next(context);
            return;
        }

        var target = Choose(context, split);
        if (target is null)
        {
            await next(context);
            return;
        }

        var clusterId = grpc ? target.GrpcCluster! : target.Cluster;
        if (!proxyState.TryGetCluster(clusterId, out var cluster))
        {
            LogUnknownCluster(inference.Model, target.Name, clusterId);
            await ProtocolErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ProtocolErrors.GrpcUnavailable,
                $"target '{target.Name}' of model '{inference.Model}' has no loaded cluster");
            return;
        }

        if (!grpc)
        {
            context.Request.Path = InferencePath.Pin(context.Request.Path.Value!, inference, target.Version, target.Label);
        }

        context.ReassignProxyRequest(cluster);
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[ServedByHeader] = target.Name;
            return Task.CompletedTask;
        });

        var started = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await next(context);
            failed = IsFailure(context, grpc);
        }
        finally
        {
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var protocol = inference.Protocol switch
            {
                InferenceProtocol.TfServingRest => "v1",
                InferenceProtocol.OpenInferenceRest => "v2",
                _ => "grpc",
            };
            metrics.Record(inference.Model, target.Name, protocol, failed, seconds);
            analyzer.Record(inference.Model, target.Name, failed, seconds);
        }
    }

    private SplitTarget? Choose(HttpContext context, ModelSplit split)
    {
        var headers = context.Request.Headers;
        if (_options.OverridesEnabled)
        {
            if (headers[_options.TargetHeader].ToString() is { Length: > 0 } named && split.Find(named) is { } pinned)
            {
                return pinned;
            }

            var canary = headers[_options.CanaryHeader].ToString();
            if (string.Equals(canary, "always", StringComparison.OrdinalIgnoreCase) && split.Canary is { } c)
            {
                return c;
            }

            if (string.Equals(canary, "never", StringComparison.OrdinalIgnoreCase))
            {
                return split.Stable;
            }
        }

        ulong? sticky = split.StickyHeader is { } header && headers[header].ToString() is { Length: > 0 } key ? StableHash.Fnv1a64(key) : null;
        return WeightedSplitPolicy.Choose(split, sticky);
    }

    private static async ValueTask<InferenceRequest?> ReadRequestAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (path.StartsWith(GrpcPrefix, StringComparison.Ordinal))
        {
            if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) != true)
            {
                return null;
            }

            var model = await GrpcModelNameReader.PeekModelNameAsync(context.Request.BodyReader, context.RequestAborted);
            return string.IsNullOrEmpty(model) ? null : new InferenceRequest(InferenceProtocol.OpenInferenceGrpc, model, 0, Pinned: false);
        }

        return InferencePath.TryParse(path, out var request) ? request : null;
    }

    /// <summary>5xx, a transport error (YARP's error feature), or a gRPC status that blames the server.</summary>
    private static bool IsFailure(HttpContext context, bool grpc)
    {
        if (context.Features.Get<IForwarderErrorFeature>() is not null || context.Response.StatusCode >= 500)
        {
            return true;
        }

        if (!grpc)
        {
            return false;
        }

        var status = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString();
        if (string.IsNullOrEmpty(status))
        {
            status = context.Response.Headers["grpc-status"].ToString();
        }

        // UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS.
        return status is "2" or "4" or "13" or "14" or "15";
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Split of model {Model} chose target {Target}, whose cluster {Cluster} is not in the proxy configuration")]
    private partial void LogUnknownCluster(string model, string target, string cluster);
}
