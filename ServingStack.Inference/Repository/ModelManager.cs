using System.Globalization;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;

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
    private readonly ManagedModel[] _models;
    private readonly Dictionary<string, ManagedModel> _byName;
    private static readonly TimeSpan SettleCheck = TimeSpan.FromMilliseconds(250);
    private bool _rescanSoon;

    public ModelManager(
        IOptions<ModelServerConfig> config,
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
        _loadSlots = new SemaphoreSlim(_options.NumLoadThreads);
        _models = config.Value.Models.Select(m => new ManagedModel(m)).ToArray();
        _byName = _models.ToDictionary(m => m.Name, StringComparer.Ordinal);
        metrics.ObserveModelStates(ObserveStates);
    }

    private IEnumerable<(string Model, string Version, int State)> ObserveStates()
    {
        foreach (var model in _models)
        {
            foreach (var version in model.Versions)
            {
                yield return (model.Name, version.Version.ToString(CultureInfo.InvariantCulture), (int)version.State);
            }
        }
    }

    public IReadOnlyList<ManagedModel> Models => _models;

    public bool TryGetModel(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ManagedModel? model) =>
        _byName.TryGetValue(name, out model);

    /// <summary>True when every configured model has an AVAILABLE version: the server's readiness.</summary>
    public bool AllModelsAvailable
    {
        get
        {
            foreach (var model in _models)
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
        var interval = TimeSpan.FromSeconds(_options.FileSystemPollWaitSeconds);
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

    /// <summary>One pass over every model: start loads for wanted versions, retire unwanted ones when it is safe.</summary>
    public void Reconcile()
    {
        foreach (var model in _models)
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
                if (existing?.Error is not null && stamp == existing.FileStamp && now < existing.RetryAt)
                {
                    continue; // failed: wait for its backoff, or for its files to change
                }

                if (!IsSettled(model, number, stamp))
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
                    FailedAttempts = existing?.Error is not null && stamp == existing.FileStamp ? existing.FailedAttempts : 0,
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
        if (_options.FileSystemPollWaitSeconds == 0 || (model.PendingStamps.TryGetValue(version, out var seen) && seen == stamp))
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

    public static TimeSpan RetryDelay(int failedAttempts) =>
        TimeSpan.FromSeconds(Math.Min(300, Math.Pow(2, Math.Clamp(failedAttempts - 1, 0, 16))));

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

            _metrics.RecordLoad(model.Name, VersionText(version), true, _time.GetElapsedTime(started));
            Log.Available(_logger, model.Name, version.Version, session.ExecutionProvider, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex)
        {
            var message = ex is ModelLoadException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            // Retried with exponential backoff (1 s, 2 s, 4 s ... 5 min) while older versions keep serving.
            version.FailedAttempts++;
            version.RetryAt = _time.GetUtcNow() + RetryDelay(version.FailedAttempts);
            version.MarkFailed(message);
            _metrics.RecordLoad(model.Name, VersionText(version), false, _time.GetElapsedTime(started));
            Log.LoadFailed(_logger, model.Name, version.Version, version.FailedAttempts, RetryDelay(version.FailedAttempts).TotalSeconds, message);
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
        foreach (var model in _models)
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

        [LoggerMessage(EventId = 3, EventName = "VersionLoadFailed", Level = LogLevel.Error, Message = "Model {Model} version {Version} failed to load (attempt {Attempt}; next try in {RetrySeconds:F0} s unless its files change): {Error}")]
        public static partial void LoadFailed(ILogger logger, string model, long version, int attempt, double retrySeconds, string error);

        [LoggerMessage(EventId = 4, EventName = "VersionRetiring", Level = LogLevel.Information, Message = "Retiring model {Model} version {Version}; it unloads when its in-flight requests finish")]
        public static partial void Retiring(ILogger logger, string model, long version);

        [LoggerMessage(EventId = 5, EventName = "VersionUnloaded", Level = LogLevel.Information, Message = "Model {Model} version {Version} unloaded")]
        public static partial void Unloaded(ILogger logger, string model, long version);

        [LoggerMessage(EventId = 6, EventName = "NoVersions", Level = LogLevel.Warning, Message = "No versions of model {Model} found under base path {BasePath}; expecting numeric folders such as {BasePath}/1/model.onnx")]
        public static partial void NoVersions(ILogger logger, string model, string basePath);

        [LoggerMessage(EventId = 8, EventName = "NotBatchable", Level = LogLevel.Warning, Message = "Model {Model} version {Version} has a fixed batch dimension, so its requests run unbatched although batching is on")]
        public static partial void NotBatchable(ILogger logger, string model, long version);

        [LoggerMessage(EventId = 7, EventName = "ScanFailed", Level = LogLevel.Warning, Message = "Could not scan model {Model} base path {BasePath}: {Error}")]
        public static partial void ScanFailed(ILogger logger, string model, string basePath, string error);
    }
}
