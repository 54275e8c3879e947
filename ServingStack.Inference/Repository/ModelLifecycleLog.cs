namespace ServingStack.Inference.Repository;

/// <summary>
/// The model lifecycle's log messages, shared by its parts (manager, reconciler, loader, unloader) so they keep one
/// category (<see cref="ModelManager"/>'s) and their event ids.
/// </summary>
internal static partial class ModelLifecycleLog
{
    [LoggerMessage(EventId = 1, EventName = "VersionLoading", Level = LogLevel.Information, Message = "Loading model {Model} version {Version} from {Path}")]
    public static partial void Loading(ILogger logger, string model, long version, string path);

    [LoggerMessage(EventId = 2, EventName = "VersionAvailable", Level = LogLevel.Information, Message = "Model {Model} version {Version} is AVAILABLE on {Provider} (loaded and warmed in {Milliseconds:F0} ms)")]
    public static partial void Available(ILogger logger, string model, long version, string provider, double milliseconds);

    [LoggerMessage(EventId = 3, EventName = "VersionLoadFailed", Level = LogLevel.Error, Message = "Model {Model} version {Version} failed to load (attempt {Attempt}; next try in {RetrySeconds:0.###} s, or as soon as its files change): {Error}")]
    public static partial void LoadFailed(ILogger logger, string model, long version, int attempt, double retrySeconds, string error);

    [LoggerMessage(EventId = 30, EventName = "VersionLoadGaveUp", Level = LogLevel.Error, Message = "Model {Model} version {Version} failed to load (attempt {Attempt}; no retries left, --max_num_load_retries={MaxRetries}); it is tried again when its files change: {Error}")]
    public static partial void LoadGaveUp(ILogger logger, string model, long version, int attempt, int maxRetries, string error);

    [LoggerMessage(EventId = 4, EventName = "VersionRetiring", Level = LogLevel.Information, Message = "Retiring model {Model} version {Version}; it unloads when its in-flight requests finish")]
    public static partial void Retiring(ILogger logger, string model, long version);

    [LoggerMessage(EventId = 5, EventName = "VersionUnloaded", Level = LogLevel.Information, Message = "Model {Model} version {Version} unloaded")]
    public static partial void Unloaded(ILogger logger, string model, long version);

    [LoggerMessage(EventId = 6, EventName = "NoVersions", Level = LogLevel.Warning, Message = "No versions of model {Model} found under base path {BasePath}; expecting numeric folders such as {BasePath}/1/model.onnx")]
    public static partial void NoVersions(ILogger logger, string model, string basePath);

    [LoggerMessage(EventId = 9, EventName = "ConfigReloaded", Level = LogLevel.Information, Message = "Model config reloaded: added [{Added}], removed [{Removed}], {Count} model(s) configured")]
    public static partial void ConfigReloaded(ILogger logger, string added, string removed, int count);

    [LoggerMessage(EventId = 10, EventName = "ConfigRejected", Level = LogLevel.Error, Message = "The changed model config file was not applied; the running config stays: {Errors}")]
    public static partial void ConfigRejected(ILogger logger, string errors);

    [LoggerMessage(EventId = 8, EventName = "NotBatchable", Level = LogLevel.Warning, Message = "Model {Model} version {Version} has a fixed batch dimension, so its requests run unbatched although batching is on")]
    public static partial void NotBatchable(ILogger logger, string model, long version);

    [LoggerMessage(EventId = 7, EventName = "ScanFailed", Level = LogLevel.Warning, Message = "Could not scan model {Model} base path {BasePath}: {Error}")]
    public static partial void ScanFailed(ILogger logger, string model, string basePath, string error);

    [LoggerMessage(EventId = 32, EventName = "VersionUnloadFailed", Level = LogLevel.Error, Message = "Model {Model} version {Version} failed to unload cleanly: {Error}")]
    public static partial void UnloadFailed(ILogger logger, string model, long version, string error);
}
