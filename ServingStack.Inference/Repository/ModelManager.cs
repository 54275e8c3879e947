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
                if (!model.HasAvailableVersion)
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

            try
            {
                await Task.Delay(interval, _time, stoppingToken);
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
            var onDisk = ScanVersions(model.Config.BasePath);
            if (onDisk.Count == 0 && !model.ReportedEmpty)
            {
                Log.NoVersions(_logger, model.Name, model.Config.BasePath);
            }

            model.ReportedEmpty = onDisk.Count == 0;
            var wanted = model.Config.VersionPolicy.Select(onDisk);
            var versions = new List<ModelVersion>(model.Versions);
            foreach (var number in wanted)
            {
                var existing = versions.Find(v => v.Version == number);
                var path = Path.Combine(model.Config.BasePath, number.ToString(CultureInfo.InvariantCulture));
                if (existing is not null && !NeedsReload(existing, path))
                {
                    continue;
                }

                if (existing is not null)
                {
                    versions.Remove(existing);
                }

                var version = new ModelVersion(model.Name, number, path, v => Log.Unloaded(_logger, v.ModelName, v.Version));
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

                // Keep serving the old version until its replacement is up, unless its folder is gone.
                var folderGone = !onDisk.Contains(version.Version);
                if (folderGone || (wantedAvailable && !wantedLoading))
                {
                    Log.Retiring(_logger, model.Name, version.Version);
                    version.Retire();
                }
            }

            // Versions that ended and whose folders are gone have nothing left to report.
            versions.RemoveAll(v => v.State == ModelVersionState.End && !onDisk.Contains(v.Version));
            versions.Sort((a, b) => a.Version.CompareTo(b.Version));
            model.SetVersions(versions.ToArray());
        }

        foreach (var version in toLoad)
        {
            _ = Task.Run(() => LoadAsync(model, version));
        }
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

    private static string VersionText(ModelVersion version) => version.Version.ToString(CultureInfo.InvariantCulture);

    private static bool NeedsReload(ModelVersion existing, string path) =>
        existing.State == ModelVersionState.End &&
        (existing.Error is null || !string.Equals(existing.FileStamp, ModelVersionLoader.GetFileStamp(path), StringComparison.Ordinal));

    private async Task LoadAsync(ManagedModel model, ModelVersion version)
    {
        await _loadSlots.WaitAsync();
        var started = _time.GetTimestamp();
        try
        {
            version.MarkLoading();
            version.FileStamp = ModelVersionLoader.GetFileStamp(version.Path);
            Log.Loading(_logger, model.Name, version.Version, version.Path);
            var session = _loader.Load(model.Config, version.Version, version.Path);
            version.MarkAvailable(session, CreateBatcher(model.Config, version.Version, session));
            _metrics.RecordLoad(model.Name, VersionText(version), true, _time.GetElapsedTime(started));
            Log.Available(_logger, model.Name, version.Version, session.ExecutionProvider, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (Exception ex)
        {
            var message = ex is ModelLoadException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            version.MarkFailed(message);
            _metrics.RecordLoad(model.Name, VersionText(version), false, _time.GetElapsedTime(started));
            Log.LoadFailed(_logger, model.Name, version.Version, message);
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

        [LoggerMessage(EventId = 3, EventName = "VersionLoadFailed", Level = LogLevel.Error, Message = "Model {Model} version {Version} failed to load: {Error}")]
        public static partial void LoadFailed(ILogger logger, string model, long version, string error);

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
