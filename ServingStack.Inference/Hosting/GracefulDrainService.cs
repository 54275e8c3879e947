using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Repository;

namespace ServingStack.Inference.Hosting;

/// <summary>
/// Runs first when the host stops (SIGTERM): readiness turns false, batch queues flush, and every response from now on
/// asks its client to reconnect (HTTP/1.1 <c>Connection: close</c>, HTTP/2 GOAWAY), so keep-alive clients move to
/// another replica while this one still accepts. The server keeps serving for the drain delay so load balancers stop
/// sending; only then does Kestrel stop accepting and wait (up to the shutdown grace) for the requests it has. Versions
/// unload after that, when their last request is done.
/// </summary>
public sealed partial class GracefulDrainService(ModelManager models, ConnectionDrain connections, IOptions<ServingOptions> options, ILogger<GracefulDrainService> logger)
    : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(options.Value.DrainDelaySeconds);
        Log.Draining(logger, delay.TotalSeconds, options.Value.ShutdownGraceSeconds);
        models.BeginDrain();
        connections.Begin();
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The host's own shutdown timeout ran out: stop now.
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, EventName = "Draining", Level = LogLevel.Information,
            Message = "Shutting down: not ready from now, still serving for {DelaySeconds} s, then finishing in-flight requests for up to {GraceSeconds} s")]
        public static partial void Draining(ILogger logger, double delaySeconds, int graceSeconds);
    }
}
