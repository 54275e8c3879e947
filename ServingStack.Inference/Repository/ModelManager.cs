using System.Globalization;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>
/// Keeps the served versions in line with the folders on disk and each model's version policy. Loads run on background
/// threads (at most <see cref="ServingOptions.NumLoadThreads"/> at once) so serving never waits on a load; a version
/// that fails to load ends in END with its error and touches nothing else. Availability is preserved: an old version
/// is retired only once a version the policy wants is AVAILABLE, and unloads when its last request ends.
/// </summary>
public sealed partial class ModelManager : BackgroundService
{
    private readonly ModelVersionLoader _loader;
    private readonly ServingMetrics _metrics;
    private readonly ILogger<ModelManager> _logger;
    private readonly TimeProvider _time;
    private readonly ServingOptions _options;
    private readonly SemaphoreSlim _loadSlots;
    private readonly IOptionsFactory<ModelServerConfig> _configFactory;
    private readonly object _configGate = new();
    private volatile ModelSet _set;
    private static readonly TimeSpan SettleCheck = TimeSpan.FromMilliseconds(250);
    private bool _rescanSoon;
    private bool _draining;
    private CancellationToken _stopping;

    public ModelManager(
        IOptions<ModelServerConfig> config,
        IOptionsFactory<ModelServerConfig> configFactory,
        IOptions<ServingOptions> options,
        ModelVersionLoader loader,
        ServingMetrics metrics,
        ILogger<ModelManager> logger,
        TimeProvider time)
    {
        _loader = loader;
        _metrics = metrics;
        _logger = logger;
        _time = time;
        _options = options.Value;
        // tensorflow_model_server's --num_load_threads=0 loads serially: one slot.
        _loadSlots = new SemaphoreSlim(Math.Max(1, _options.NumLoadThreads));
        _configFactory = configFactory;
        _set = new ModelSet(config.Value.Models.Select(m => new ManagedModel(m)).ToArray());
        metrics.ObserveModelStates(ObserveStates);
    }

    private IEnumerable<(string Model, string Version, int State)> ObserveStates()
    {
        foreach (var model in _set.Models)
        {
            foreach (var version in model.Versions)
            {
                yield return (model.Name, version.Version.ToString(CultureInfo.InvariantCulture), (int)version.State);
            }
        }
    }

    public IReadOnlyList<ManagedModel> Models => _set.Models;

    public bool TryGetModel(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ManagedModel? model) =>
        _set.ByName.TryGetValue(name, out model);

    /// <summary>Readiness: every model that should serve has an AVAILABLE version, and the server is not shutting down.</summary>
    public bool IsReady => !IsDraining && AllModelsAvailable;

    /// <summary>Set once shutdown starts: readiness turns false while queued and in-flight requests finish.</summary>
    public bool IsDraining => Volatile.Read(ref _draining);

    /// <summary>Starts the drain: readiness flips at once and every batch queue is sent without waiting for fuller batches.</summary>
    public void BeginDrain()
    {
        Volatile.Write(ref _draining, true);
        foreach (var model in _set.Models)
        {
            foreach (var version in model.Versions)
            {
                version.Batcher?.Flush();
            }
        }
    }

    /// <summary>
    /// Repository API: serve <paramref name="model"/> again (if it was unloaded) and rescan its folder now, trusting the
    /// files as they are. Completes when a version is AVAILABLE or every wanted version failed.
    /// </summary>
    public async Task<ServingError?> LoadAsync(ManagedModel model, TimeSpan timeout, CancellationToken cancellationToken)
    {
        lock (model.Gate)
        {
            model.Unloaded = false;
            model.TrustFilesOnce = true;
        }

        Reconcile(model);
        var wanted = model.Config.VersionPolicy.Select(ScanVersions(model.Config.BasePath));
        if (wanted.Count == 0)
        {
            return ServingError.InvalidArgument($"failed to load model '{model.Name}': no version folders under '{model.Config.BasePath}'");
        }

        var started = _time.GetTimestamp();
        while (true)
        {
            var states = wanted.Select(v => model.Find(v)).ToList();
            if (states.TrueForAll(v => v?.State == ModelVersionState.Available))
            {
                return null;
            }

            if (!states.Exists(v => v is null || v.State is ModelVersionState.Start or ModelVersionState.Loading))
            {
                var reasons = string.Join("; ", states.Where(v => v!.State != ModelVersionState.Available).Select(v => $"version {v!.Version}: {v.Error ?? v.State.ToString()}"));
                var serving = model.HasAvailableVersion ? " (the versions that were serving still serve)" : string.Empty;
                return ServingError.InvalidArgument($"failed to load model '{model.Name}': {reasons}{serving}");
            }

            if (_time.GetElapsedTime(started) > timeout)
            {
                return ServingError.Unavailable($"model '{model.Name}' is still loading after {timeout.TotalSeconds:F0} s; poll its status");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken);
        }
    }

    /// <summary>Repository API: stop serving <paramref name="model"/>; its versions unload as their in-flight requests finish.</summary>
    public void Unload(ManagedModel model)
    {
        lock (model.Gate)
        {
            model.Unloaded = true;
        }

        Reconcile(model);
    }

    /// <summary>True when every configured model has an AVAILABLE version (models unloaded on purpose excepted).</summary>
    public bool AllModelsAvailable
    {
        get
        {
            foreach (var model in _set.Models)
            {
                // A model unloaded on purpose (repository API) does not hold readiness back.
                if (!model.HasAvailableVersion && !model.Unloaded)
                {
                    return false;
                }
            }

            return true;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var watchConfig = WatchConfigFileAsync(stoppingToken);
        await PollFoldersAsync(stoppingToken);
        await watchConfig;
    }

    private async Task PollFoldersAsync(CancellationToken stoppingToken)
    {
        // Explicit control: the folders are read at start and on the repository API's load, never polled.
        var interval = _options.ModelControlMode == ModelControlMode.Explicit ? TimeSpan.Zero : TimeSpan.FromSeconds(_options.FileSystemPollWaitSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            Reconcile();
            if (interval <= TimeSpan.Zero)
            {
                return;
            }

            // A folder seen for the first time is checked again soon, not a whole interval later.
            var delay = Interlocked.Exchange(ref _rescanSoon, false) && interval > SettleCheck ? SettleCheck : interval;
            try
            {
                await Task.Delay(delay, _time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Rereads the model config file when it changes (<c>--model_config_file_poll_wait_seconds</c>): models are added,
    /// removed (their versions drain and unload), and updated in place (labels, policy). A file that fails to read or
    /// validate is reported and the running config stays.
    /// </summary>
    private async Task WatchConfigFileAsync(CancellationToken stoppingToken)
    {
        var path = _options.ModelConfigFile;
        var interval = TimeSpan.FromSeconds(_options.ModelConfigFilePollWaitSeconds);
        if (string.IsNullOrWhiteSpace(path) || interval <= TimeSpan.Zero)
        {
            return;
        }

        var seen = FileStamp(path);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, _time, stoppingToken);
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
            ReloadConfig();
        }
    }

    private static string FileStamp(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{file.Length}:{file.LastWriteTimeUtc.Ticks}" : "missing";
    }

    /// <summary>Reads and validates the config file again and applies it; false when it was refused.</summary>
    public bool ReloadConfig()
    {
        ModelServerConfig config;
        try
        {
            config = _configFactory.Create(Options.DefaultName);
        }
        catch (OptionsValidationException ex)
        {
            Log.ConfigRejected(_logger, string.Join(" ", ex.Failures));
            return false;
        }

        ApplyConfig(config);
        return true;
    }

    /// <summary>
    /// Serves exactly the models of <paramref name="config"/>, which the caller has validated (a config-file reload, or
    /// TF Serving's HandleReloadConfigRequest): new models start loading, removed ones drain and unload, kept ones take
    /// the new settings. Returns the models it added.
    /// </summary>
    public IReadOnlyList<ManagedModel> ApplyConfig(ModelServerConfig config)
    {
        var addedModels = new List<ManagedModel>();
        lock (_configGate)
        {
            var old = _set;
            var models = new List<ManagedModel>();
            var added = new List<string>();
            foreach (var modelConfig in config.Models)
            {
                if (old.ByName.TryGetValue(modelConfig.Name, out var existing))
                {
                    lock (existing.Gate)
                    {
                        existing.Config = modelConfig;
                    }

                    models.Add(existing);
                }
                else
                {
                    var model = new ManagedModel(modelConfig);
                    models.Add(model);
                    addedModels.Add(model);
                    added.Add(modelConfig.Name);
                }
            }

            var removed = new List<string>();
            foreach (var model in old.Models)
            {
                if (!config.Models.Exists(m => m.Name == model.Name))
                {
                    removed.Add(model.Name);
                    Unload(model);
                }
            }

            _set = new ModelSet([.. models]);
            Log.ConfigReloaded(_logger, string.Join(", ", added), string.Join(", ", removed), models.Count);
        }

        Reconcile();
        return addedModels;
    }

    /// <summary>One pass over every model: start loads for wanted versions, retire unwanted ones when it is safe.</summary>
    public void Reconcile()
    {
        foreach (var model in _set.Models)
        {
            try
            {
                Reconcile(model);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Log.ScanFailed(_logger, model.Name, model.Config.BasePath, ex.Message);
            }
        }
    }

    private void Reconcile(ManagedModel model)
    {
        var toLoad = new List<ModelVersion>();
        lock (model.Gate)
        {
            var config = model.Config;
            var onDisk = ScanVersions(config.BasePath);
            if (onDisk.Count == 0 && !model.ReportedEmpty && !model.Unloaded)
            {
                Log.NoVersions(_logger, model.Name, config.BasePath);
            }

            model.ReportedEmpty = onDisk.Count == 0;
            // An unloaded model (repository API) wants nothing until it is loaded again.
            var wanted = model.Unloaded ? [] : config.VersionPolicy.Select(onDisk);
            var versions = new List<ModelVersion>(model.Versions);
            var now = _time.GetUtcNow();
            foreach (var number in wanted)
            {
                var existing = versions.Find(v => v.Version == number);
                var path = Path.Combine(config.BasePath, number.ToString(CultureInfo.InvariantCulture));
                if (existing is not null && existing.State != ModelVersionState.End)
                {
                    continue;
                }

                var stamp = VersionFolder.Stamp(path);
                var sameFilesFailed = existing?.Error is not null && stamp == existing.FileStamp;
                if (sameFilesFailed && now < existing!.RetryAt)
                {
                    continue; // failed: wait for its retry, or for its files to change
                }

                // A retry of the same files needs no second look: they settled before the failed load.
                if (!sameFilesFailed && !IsSettled(model, number, stamp))
                {
                    continue; // still being written: look again shortly
                }

                if (existing is not null)
                {
                    versions.Remove(existing);
                }

                var version = new ModelVersion(model.Name, number, path, v => Log.Unloaded(_logger, v.ModelName, v.Version))
                {
                    FileStamp = stamp,
                    Metrics = _metrics,
                    FailedAttempts = sameFilesFailed ? existing!.FailedAttempts : 0,
                };
                versions.Add(version);
                toLoad.Add(version);
            }

            var wantedAvailable = versions.Exists(v => wanted.Contains(v.Version) && v.State == ModelVersionState.Available);
            var wantedLoading = versions.Exists(v => wanted.Contains(v.Version) && v.State is ModelVersionState.Start or ModelVersionState.Loading);
            foreach (var version in versions)
            {
                if (version.State != ModelVersionState.Available || wanted.Contains(version.Version))
                {
                    continue;
                }

                // Keep serving the old version until its replacement is up, unless its folder is gone or the model was unloaded.
                var folderGone = !onDisk.Contains(version.Version);
                if (folderGone || model.Unloaded || (wantedAvailable && !wantedLoading))
                {
                    Log.Retiring(_logger, model.Name, version.Version);
                    version.Retire();
                }
            }

            // Versions that ended and whose folders are gone have nothing left to report.
            versions.RemoveAll(v => v.State == ModelVersionState.End && !onDisk.Contains(v.Version));
            versions.Sort((a, b) => a.Version.CompareTo(b.Version));
            model.SetVersions(versions.ToArray());
            model.UpdateLabels();
            model.TrustFilesOnce = false;
        }

        foreach (var version in toLoad)
        {
            _ = Task.Run(() => LoadAsync(model, version));
        }
    }

    /// <summary>
    /// A version folder is loaded once its files look the same on two scans in a row: a folder renamed into place
    /// (what ModelSync does) passes at the next scan, one still being copied waits until the copy stops changing it.
    /// With polling off there is no second scan, so the first is trusted.
    /// </summary>
    private bool IsSettled(ManagedModel model, long version, string stamp)
    {
        if (_options.FileSystemPollWaitSeconds == 0 || model.TrustFilesOnce || _options.ModelControlMode == ModelControlMode.Explicit ||
            (model.PendingStamps.TryGetValue(version, out var seen) && seen == stamp))
        {
            model.PendingStamps.Remove(version);
            return true;
        }

        model.PendingStamps[version] = stamp;
        Volatile.Write(ref _rescanSoon, true);
        return false;
    }

    private DynamicBatcher? CreateBatcher(ModelConfig config, long version, Runtime.OnnxModelSession session)
    {
        if (!config.Batching.Enabled)
        {
            return null;
        }

        if (!DynamicBatcher.CanBatch(session))
        {
            Log.NotBatchable(_logger, config.Name, version);
            return null;
        }

        return new DynamicBatcher(session, config.Batching, _metrics, config.Name, version);
    }

    /// <summary>
    /// tensorflow_model_server's retry rule: after a failed load, up to <c>--max_num_load_retries</c> more attempts, each
    /// <c>--load_retry_interval_micros</c> after the last failure (negative: at once). Null: no retries left.
    /// </summary>
    private TimeSpan? RetryDelay(int failedAttempts)
    {
        if (failedAttempts > _options.MaxNumLoadRetries)
        {
            return null;
        }

        // Task.Delay takes at most ~24.8 days; a longer interval is as good as never within one process.
        var micros = Math.Clamp(_options.LoadRetryIntervalMicros, 0, (long)TimeSpan.FromDays(24).TotalMicroseconds);
        return TimeSpan.FromMicroseconds(micros);
    }

    /// <summary>Wakes the model up for a retry at its time, so retries happen with polling off too.</summary>
    private async Task RetryLaterAsync(ManagedModel model, ModelVersion failed, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (IsDraining)
        {
            return;
        }

        // The timer and the wall clock may disagree by a tick: this wake-up is the retry time.
        failed.RetryAt = _time.GetUtcNow();
        try
        {
            Reconcile(model);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ScanFailed(_logger, model.Name, model.Config.BasePath, ex.Message);
        }
    }

    private static string VersionText(ModelVersion version) => version.Version.ToString(CultureInfo.InvariantCulture);

    private async Task LoadAsync(ManagedModel model, ModelVersion version)
    {
        await _loadSlots.WaitAsync();
        var started = _time.GetTimestamp();
        try
        {
            version.MarkLoading();
            Log.Loading(_logger, model.Name, version.Version, version.Path);
            var session = _loader.Load(model.Config, version.Version, version.Path);
            version.MarkAvailable(session, CreateBatcher(model.Config, version.Version, session));
            lock (model.Gate)
            {
                model.UpdateLabels();
            }

            _metrics.RecordLoad(model.Name, VersionText(version), version.Path, true, _time.GetElapsedTime(started));
            Log.Available(_logger, model.Name, version.Version, session.ExecutionProvider, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex)
        {
            var message = ex is ModelLoadException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            // Retried per --max_num_load_retries / --load_retry_interval_micros while older versions keep serving; a
            // change to the version's files is tried at once, whatever the count.
            version.FailedAttempts++;
            var retry = RetryDelay(version.FailedAttempts);
            version.RetryAt = retry is { } delay ? _time.GetUtcNow() + delay : DateTimeOffset.MaxValue;
            version.MarkFailed(message);
            _metrics.RecordLoad(model.Name, VersionText(version), version.Path, false, _time.GetElapsedTime(started));
            if (retry is { } wait)
            {
                Log.LoadFailed(_logger, model.Name, version.Version, version.FailedAttempts, wait.TotalSeconds, message);
                _ = RetryLaterAsync(model, version, wait);
            }
            else
            {
                Log.LoadGaveUp(_logger, model.Name, version.Version, version.FailedAttempts, _options.MaxNumLoadRetries, message);
            }
        }
        finally
        {
            _loadSlots.Release();
        }

        // A new version may now let an old one retire.
        Reconcile(model);
    }

    /// <summary>Numeric version folders, ascending. Anything else (files, ".staging", "v2") is ignored.</summary>
    public static List<long> ScanVersions(string basePath)
    {
        var versions = new List<long>();
        if (!Directory.Exists(basePath))
        {
            return versions;
        }

        foreach (var dir in Directory.EnumerateDirectories(basePath))
        {
            var name = Path.GetFileName(dir);
            if (long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0)
            {
                versions.Add(version);
            }
        }

        versions.Sort();
        return versions;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        foreach (var model in _set.Models)
        {
            foreach (var version in model.Versions)
            {
                version.Retire();
            }
        }
    }

    public override void Dispose()
    {
        _loadSlots.Dispose();
        base.Dispose();
    }

    private static partial class Log
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
    }

    /// <summary>An immutable snapshot of the configured models, swapped whole when the config file changes.</summary>
    private sealed class ModelSet(ManagedModel[] models)
    {
        public ManagedModel[] Models { get; } = models;

        public Dictionary<string, ManagedModel> ByName { get; } = models.ToDictionary(m => m.Name, StringComparer.Ordinal);
    }
}
