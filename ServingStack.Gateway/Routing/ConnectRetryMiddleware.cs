using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace ServingStack.Gateway.Routing;

/// <summary>
/// Runs after the split, ahead of YARP's affinity, load balancing and passive health steps: marks the response with the
/// destination that served it and, when forwarding failed before any response (YARP's <c>ForwarderError.Request</c> or
/// <c>RequestBodyDestination</c>: a refused or broken connect, or a destination that went away before answering),
/// re-sends the request once through those steps to the cluster's other healthy destinations. Re-sent are requests that
/// never reached a destination (nothing of the body was read, or the connect itself failed), whatever they are, and
/// requests safe to repeat (<see cref="ReplaySafety"/>: inference and reads) whose body is copied whole as it is
/// forwarded, up to <see cref="ResilienceOptions.MaxReplayBodyBytes"/>. This holds for REST and gRPC (unary and
/// streaming) alike.
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
        var retry = _options.RetryConnectFailures && candidates.Count > 1;
        var request = context.Request;
        ReplayableRequestBody? body = null;
        if (retry && HasBody(context))
        {
            var copyLimit = ReplaySafety.MaySendTwice(request.Method, request.Path.Value ?? "") ? (int)_options.MaxReplayBodyBytes : 0;
            body = new ReplayableRequestBody(request.Body, copyLimit);
            request.Body = body;
            context.Response.RegisterForDispose(body);
        }

        await next(context);

        if (!retry
            || context.Response.HasStarted
            || context.Features.Get<IForwarderErrorFeature>() is not { Error: ForwarderError.Request or ForwarderError.RequestBodyDestination } error
            || proxy.ProxiedDestination is not { } failed
            || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        var neverReached = body?.Untouched ?? IsConnectFailure(error.Exception);
        var replayable = neverReached || (ReplaySafety.MaySendTwice(request.Method, request.Path.Value ?? "") && (body is null || body.CanReplay));
        var others = replayable ? candidates.Where(d => !ReferenceEquals(d, failed) && IsHealthy(d)).ToArray() : [];
        if (others.Length == 0)
        {
            return;
        }

        var cluster = proxy.Cluster.Config.ClusterId;
        LogRetry(cluster, failed.DestinationId, error.Exception?.Message);
        metrics.RecordRetry(cluster, failed.DestinationId);
        context.Features.Set<IForwarderErrorFeature>(null);
        context.Response.Clear();
        if (body is { Untouched: false })
        {
            body.Rewind();
        }

        proxy.AvailableDestinations = others;
        proxy.ProxiedDestination = null;
        await next(context);
    }

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>() is not { CanHaveBody: false } && context.Request.ContentLength != 0;

    /// <summary>The connection to the destination was never established, so the request cannot have reached it.</summary>
    private static bool IsConnectFailure(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError }
                || e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsHealthy(DestinationState destination) =>
        destination.Health.Active != DestinationHealth.Unhealthy && destination.Health.Passive != DestinationHealth.Unhealthy;

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Forwarding to destination {Destination} of cluster {Cluster} failed before any response ({Reason}); retrying once on another destination")]
    private partial void LogRetry(string cluster, string destination, string? reason);
}
