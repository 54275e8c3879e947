using ServingStack.Inference.Configuration;

namespace ServingStack.Inference.Repository;

/// <summary>
/// Desired state from the model config file: rereads it when it changes (<c>--model_config_file_poll_wait_seconds</c>)
/// and hands it to <paramref name="reload"/>, which adds, removes and updates models.
/// </summary>
internal sealed class ModelConfigFileWatcher(ServingOptions options, TimeProvider time, Func<bool> reload)
{
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var path = options.ModelConfigFile;
        var interval = TimeSpan.FromSeconds(options.ModelConfigFilePollWaitSeconds);
        if (string.IsNullOrWhiteSpace(path) || interval <= TimeSpan.Zero)
        {
            return;
        }

        var seen = FileStamp(path);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var current = FileStamp(path);
            if (current == seen)
            {
                continue;
            }

            seen = current;
            reload();
        }
    }

    private static string FileStamp(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{file.Length}:{file.LastWriteTimeUtc.Ticks}" : "missing";
    }
}
