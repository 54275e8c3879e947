using ServingStack.Inference.Configuration;

namespace ServingStack.Inference.Repository;

/// <summary>
/// Desired state from the file system: rescans every model's folder each <c>--file_system_poll_wait_seconds</c>
/// (once at start when polling is off or model control is explicit), and soon after a folder first appears.
/// </summary>
internal sealed class RepositoryFolderPoller(ServingOptions options, TimeProvider time, ModelReconciler reconciler, Func<IReadOnlyList<ManagedModel>> models)
{
    private static readonly TimeSpan s_settleCheck = TimeSpan.FromMilliseconds(250);

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        // Explicit control: the folders are read at start and on the repository API's load, never polled.
        var interval = options.ModelControlMode == ModelControlMode.Explicit ? TimeSpan.Zero : TimeSpan.FromSeconds(options.FileSystemPollWaitSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            reconciler.ReconcileAll(models());
            if (interval <= TimeSpan.Zero)
            {
                return;
            }

            // A folder seen for the first time is checked again soon, not a whole interval later.
            var delay = reconciler.TakeRescanSoon() && interval > s_settleCheck ? s_settleCheck : interval;
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
