using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.Hosting;

/// <summary>Starts the drain first thing when the host stops, and holds the listeners open for the configured delay.</summary>
internal sealed class ConnectionDrainService(ConnectionDrain drain, IOptions<ConnectionDrainOptions> options) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        drain.Begin();
        var delay = TimeSpan.FromSeconds(options.Value.DelaySeconds);
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The host's shutdown timeout ran out: stop now.
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
