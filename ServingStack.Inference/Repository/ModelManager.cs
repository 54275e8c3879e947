using System.Globalization;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Repository;

/// <summary>
/// The model lifecycle's front door: the repository API and the served model set. Its parts, each in its own file:
/// desired state comes from <see cref="RepositoryFolderPoller"/> (version folders), <see cref="ModelConfigFileWatcher"/>
/// (the config file) and this class's <see cref="LoadAsync"/>/<see cref="Unload"/>/<see cref="ApplyConfig"/>;
/// <see cref="ModelReconciler"/> turns it into load and retire steps; <see cref="ModelLoadScheduler"/> runs the loads
/// (tracked, at most <see cref="ServingOptions.NumLoadThreads"/> at once, with the retry policy); and
/// <see cref="ModelVersionUnloader"/> frees retired versions in the background after their last request.
/// </summary>
public sealed class ModelManager : BackgroundService
{
    private readonly ILogger<ModelManager> _logger;
    private readonly TimeProvider _time;
    private readonly ServingOptions _options;
    private readonly IOptionsFactory<ModelServerConfig> _configFactory;
    private readonly ModelVersionUnloader _unloader;
    private readonly ModelLoadScheduler _loads;
    private readonly ModelReconciler _reconciler;
    private readonly object _configGate = new();
    private volatile ModelSet _set;
    private bool _draining;

    public ModelManager(
        IOptions<ModelServerConfig> config,
        IOptionsFactory<ModelServerConfig> configFactory,
        IOptions<ServingOptions> options,
        ModelVersionLoader loader,
        ServingMetrics metrics,
        ILogger<ModelManager> logger,
        TimeProvider time)
    {
        _logger = logger;
        _time = time;
        _options = options.Value;
        _configFactory = configFactory;
        _unloader = new ModelVersionUnloader(logger);
        _loads = new ModelLoadScheduler(
            loader.Load, metrics, logger, time, new LoadRetryPolicy(_options.MaxNumLoadRetries, _options.LoadRetryIntervalMicros), _options.NumLoadThreads, () => IsDraining);
        _reconciler = new ModelReconciler(_options, time, metrics, logger, _loads, _unloader);
        _loads.AfterLoad = _reconciler.Reconcile;
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

    /// <summary>Loads and retry timers still running (tracked so shutdown can wait for them).</summary>
    internal int PendingLoads => _loads.Pending;

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

        _reconciler.Reconcile(model);
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

            // A wanted version still UNLOADING (unloaded just before this load) loads again once it has drained; one that
            // has just drained (END, no error) is replaced by the reconcile its unload triggers, or by this one.
            if (states.Exists(v => v is not null && v.State == ModelVersionState.End && v.Error is null))
            {
                lock (model.Gate)
                {
                    model.TrustFilesOnce = true;
                }

                _reconciler.Reconcile(model);
                states = wanted.Select(v => model.Find(v)).ToList();
            }

            if (!states.Exists(v => v is null || v.State is ModelVersionState.Start or ModelVersionState.Loading or ModelVersionState.Unloading ||
                (v.State == ModelVersionState.End && v.Error is null)))
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

        _reconciler.Reconcile(model);
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
        var watchConfig = new ModelConfigFileWatcher(_options, _time, ReloadConfig).RunAsync(stoppingToken);
        await new RepositoryFolderPoller(_options, _time, _reconciler, () => _set.Models).RunAsync(stoppingToken);
        await watchConfig;
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
            ModelLifecycleLog.ConfigRejected(_logger, string.Join(" ", ex.Failures));
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
            ModelLifecycleLog.ConfigReloaded(_logger, string.Join(", ", added), string.Join(", ", removed), models.Count);
        }

        Reconcile();
        return addedModels;
    }

    /// <summary>One pass over every model: start loads for wanted versions, retire unwanted ones when it is safe.</summary>
    public void Reconcile() => _reconciler.ReconcileAll(_set.Models);

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

    /// <summary>
    /// Stops the sources (polling, config watching), waits for loads in flight (so none turns AVAILABLE behind
    /// shutdown's back), retires every version, and lets the unloader free what no request still holds.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await _loads.StopAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: retire what is loaded now; a load still running disposes its own session.
        }

        _reconciler.Stop();
        ModelReconciler.RetireAll(_set.Models);
        try
        {
            await _unloader.CompleteAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Out of shutdown time: the process exit frees the rest.
        }
    }

    public override void Dispose()
    {
        _ = _unloader.CompleteAsync();
        _loads.Dispose();
        base.Dispose();
    }

    /// <summary>An immutable snapshot of the configured models, swapped whole when the config file changes.</summary>
    private sealed class ModelSet(ManagedModel[] models)
    {
        public ManagedModel[] Models { get; } = models;

        public Dictionary<string, ManagedModel> ByName { get; } = models.ToDictionary(m => m.Name, StringComparer.Ordinal);
    }
}
