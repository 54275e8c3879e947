using System.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;
using ServingStack.Gateway.Metrics;
using ServingStack.Gateway.Routing;
using ServingStack.Gateway.Security;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace ServingStack.Gateway.Splits;

/// <summary>
/// Runs first in YARP's proxy pipeline: finds the model, picks the split's target (an override header the caller may
/// use, a sticky hash or a weighted draw), pins REST requests to the target's version or label, reassigns the request
/// to the target's cluster, and records the outcome for metrics and canary analysis. Requests of models without a
/// split, and requests that already name a version or label, keep the route's own cluster. Canary analysis sees only
/// what the split itself routed (no overrides) and only outcomes that say something about the server.
/// </summary>
public sealed partial class WeightedSplitMiddleware(
    SplitRegistry registry,
    IProxyStateLookup proxyState,
    GatewayMetrics metrics,
    CanaryAnalyzer analyzer,
    OverrideAuthorizer overrides,
    IOptions<GatewayOptions> options,
    ILogger<WeightedSplitMiddleware> logger)
{
    public const string ServedByHeader = "X-Served-By";
    private const string GrpcTimeoutHeader = "grpc-timeout";

    // A static callback with its state, so that a split request allocates one small object for it, not a closure and a delegate.
    private static readonly Func<object, Task> MarkResponse = state =>
    {
        var mark = (ResponseMark)state;
        Volatile.Write(ref mark.StartedAt, Stopwatch.GetTimestamp());
        mark.Response.Headers[ServedByHeader] = mark.Target;
        return Task.CompletedTask;
    };

    private readonly GatewayOptions _options = options.Value;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var (request, malformed) = await ReadRequestAsync(context);
        if (malformed is not null)
        {
            LogMalformed(ClientText.Cut(context.Request.Path.Value), malformed);
            await ProtocolErrors.WriteAsync(context, StatusCodes.Status400BadRequest, ProtocolErrors.GrpcInvalidArgument, $"malformed request message: {malformed}");
            return;
        }

        if (request is not { } inference || inference.Pinned || registry.Get(inference.Model) is not { } split)
        {
            await next(context);
            return;
        }

        var grpc = inference.Protocol is InferenceProtocol.OpenInferenceGrpc or InferenceProtocol.TfServingGrpc;
        if (grpc && !EveryTargetHasGrpcCluster(split))
        {
            await next(context);
            return;
        }

        var (target, overridden) = await ChooseAsync(context, split);
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
                $"target '{target.Name}' of model '{ClientText.Cut(inference.Model)}' has no loaded cluster");
            return;
        }

        if (!grpc)
        {
            context.Request.Path = InferencePath.Pin(context.Request.Path.Value!, inference, target.Version, target.Label);
        }

        context.ReassignProxyRequest(cluster);
        var started = Stopwatch.GetTimestamp();
        var mark = new ResponseMark(context.Response, target.Name);
        context.Response.OnStarting(MarkResponse, mark);

        RequestOutcome? outcome = null;
        try
        {
            await next(context);
            outcome = Classify(context, grpc);
        }
        finally
        {
            var ended = Stopwatch.GetTimestamp();
            var protocol = inference.Protocol switch
            {
                InferenceProtocol.TfServingRest => "v1",
                InferenceProtocol.OpenInferenceRest => "v2",
                InferenceProtocol.TfServingGrpc => "tf-grpc",
                _ => "grpc",
            };
            metrics.Record(inference.Model, target.Name, protocol, outcome is null or RequestOutcome.ServerFailure, Stopwatch.GetElapsedTime(started, ended).TotalSeconds);
            if (!overridden && outcome is RequestOutcome.Success or RequestOutcome.ServerFailure)
            {
                // The server's latency: until its answer started (a slow-reading client does not stretch it), or until
                // the gateway gave up on it.
                var answered = Volatile.Read(ref mark.StartedAt) is > 0 and var at && at < ended ? at : ended;
                analyzer.Record(inference.Model, target.Name, outcome == RequestOutcome.ServerFailure, Stopwatch.GetElapsedTime(started, answered).TotalSeconds);
            }
        }
    }

    private async ValueTask<(SplitTarget? Target, bool Overridden)> ChooseAsync(HttpContext context, ModelSplit split)
    {
        var headers = context.Request.Headers;
        if (_options.OverridesEnabled && Requested(headers, split) is { } wanted)
        {
            // A target whose weight was taken to 0 at run time (canary analysis, or an admin) stays out of reach for
            // everyone but the admin; without the permission the headers are ignored.
            var access = await overrides.EvaluateAsync(context);
            var rolledBack = wanted.Weight == 0 && wanted.RolledBackAt is not null;
            if (access == OverrideAccess.Admin || (access == OverrideAccess.Override && !rolledBack))
            {
                return (wanted, true);
            }
        }

        ulong? sticky = split.StickyHeader is { } header && headers[header].ToString() is { Length: > 0 } key ? StableHash.Fnv1a64(key) : null;
        return (WeightedSplitPolicy.Choose(split, sticky), false);
    }

    /// <summary>The target the override headers ask for, if any.</summary>
    private SplitTarget? Requested(IHeaderDictionary headers, ModelSplit split)
    {
        if (headers[_options.TargetHeader].ToString() is { Length: > 0 } named && split.Find(named) is { } pinned)
        {
            return pinned;
        }

        var canary = headers[_options.CanaryHeader].ToString();
        if (string.Equals(canary, "always", StringComparison.OrdinalIgnoreCase))
        {
            return split.Canary;
        }

        return string.Equals(canary, "never", StringComparison.OrdinalIgnoreCase) ? split.Stable : null;
    }

    private static bool EveryTargetHasGrpcCluster(ModelSplit split)
    {
        foreach (var target in split.Targets)
        {
            if (target.GrpcCluster is null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The model and protocol of an inference request; for gRPC, a description of a malformed first message instead.</summary>
    private static async ValueTask<(InferenceRequest? Request, string? Malformed)> ReadRequestAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!ProtocolErrors.IsGrpc(context.Request))
        {
            return (InferencePath.TryParse(path, out var request) ? request : null, null);
        }

        var field = GrpcModelNameReader.FieldOf(path);
        if (field == GrpcModelField.None)
        {
            return (null, null);
        }

        var peek = await GrpcModelNameReader.PeekAsync(context.Request.BodyReader, field, context.RequestAborted);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: true } limit)
        {
            context.Features.Set<IHttpMaxRequestBodySizeFeature>(new PeekedBodySizeLimit(limit));
        }

        var protocol = field == GrpcModelField.OpenInference ? InferenceProtocol.OpenInferenceGrpc : InferenceProtocol.TfServingGrpc;
        return peek.Outcome switch
        {
            GrpcPeekOutcome.Found => (new InferenceRequest(protocol, peek.Model!, 0, peek.Pinned), null),
            GrpcPeekOutcome.Malformed => (null, peek.Error),
            _ => (null, null),
        };
    }

    private static RequestOutcome Classify(HttpContext context, bool grpc)
    {
        var error = context.Features.Get<IForwarderErrorFeature>()?.Error;
        string? status = null;
        if (grpc && error is null)
        {
            status = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers["grpc-status"].ToString();
            if (string.IsNullOrEmpty(status))
            {
                // A trailers-only answer carries its status in the headers.
                status = context.Response.Headers["grpc-status"].ToString();
            }
        }

        return RequestOutcomeClassifier.Classify(context.RequestAborted.IsCancellationRequested, error, context.Response.StatusCode, grpc, status,
            clientDeadline: context.Request.Headers.ContainsKey(GrpcTimeoutHeader));
    }

    /// <summary>When the answer of a split request started, and the target named in its header.</summary>
    private sealed class ResponseMark(HttpResponse response, string target)
    {
        public readonly HttpResponse Response = response;
        public readonly string Target = target;
        public long StartedAt;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "Split of model {Model} chose target {Target}, whose cluster {Cluster} is not in the proxy configuration")]
    private partial void LogUnknownCluster(string model, string target, string cluster);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "gRPC call to {Path} refused with INVALID_ARGUMENT: {Error}")]
    private partial void LogMalformed(string path, string error);
}
