using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Runs after the split, ahead of YARP's affinity, load balancing and passive health steps: marks the response with the
/// destination that served it and, when forwarding failed before any response (a refused or broken connect), re-sends
/// the request once through those steps to the cluster's other healthy destinations. Only requests whose body can be
/// replayed are retried: no body, or a Content-Length up to <see cref="ResilienceOptions.MaxReplayBodyBytes"/>, buffered.
/// </summary>
public sealed partial class ConnectRetryMiddleware(
    ResilienceMetrics metrics,
    IOptions<ResilienceOptions> options,
    ILogger<ConnectRetryMiddleware> logger)
{
    public const string DestinationHeader = "X-Served-By-Destination";

    private static readonly Func<object, Task> AddDestinationHeader = state =>
    {
        var context = (HttpContext)state;
        if (context.GetReverseProxyFeature().ProxiedDestination is { } destination)
        {
            context.Response.Headers[DestinationHeader] = destination.DestinationId;
        }

        return Task.CompletedTask;
    };

    private readonly ResilienceOptions _options = options.Value;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var proxy = context.GetReverseProxyFeature();
        context.Response.OnStarting(AddDestinationHeader, context);
        var candidates = proxy.AvailableDestinations;
        var replayable = _options.RetryConnectFailures && candidates.Count > 1 && PrepareReplay(context.Request);

        await next(context);

        if (!replayable
            || context.Response.HasStarted
            || context.Features.Get<IForwarderErrorFeature>() is not { Error: ForwarderError.Request } error
            || proxy.ProxiedDestination is not { } failed
            || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var others = candidates.Where(d => !ReferenceEquals(d, failed) && IsHealthy(d)).ToArray();
        if (others.Length == 0)
        {
            return;
        }

        var cluster = proxy.Cluster.Config.ClusterId;
        LogRetry(cluster, failed.DestinationId, error.Exception?.Message);
        metrics.RecordRetry(cluster, failed.DestinationId);
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.Clear();
        if (context.Request.Body.CanSeek)
        {
            context.Request.Body.Position = 0;
        }

        proxy.AvailableDestinations = others;
        proxy.ProxiedDestination = null;
        await next(context);
    }

    private bool PrepareReplay(HttpRequest request)
    {
        if (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false } || request.ContentLength == 0)
        {
            return true;
        }

        if (request.ContentLength is not { } length || length > _options.MaxReplayBodyBytes)
        {
            return false;
        }

        request.EnableBuffering((int)length, length);
        return true;
    }

    private static bool IsHealthy(DestinationState destination) =>
        destination.Health.Active != DestinationHealth.Unhealthy && destination.Health.Passive != DestinationHealth.Unhealthy;

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Forwarding to destination {Destination} of cluster {Cluster} failed before any response ({Reason}); retrying once on another destination")]
    private partial void LogRetry(string cluster, string destination, string? reason);
}
