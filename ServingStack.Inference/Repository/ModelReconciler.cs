using System.Globalization;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Metrics;

namespace ServingStack.Inference.Repository;

/// <summary>
/// Turns desired state (a model's config, its version folders on disk, whether the repository API unloaded it) into
/// steps: start loads for wanted versions, retire unwanted ones once that is safe. Availability is preserved: an old
/// version is retired only once a version the policy wants is AVAILABLE, unless its folder is gone or the model was
/// unloaded. All steps for one model run under its gate, so reconciles from the poller, the loader and the APIs
/// never interleave.
/// </summary>
internal sealed class ModelReconciler(
    ServingOptions options, TimeProvider time, ServingMetrics metrics, ILogger logger, ModelLoadScheduler loads, ModelVersionUnloader unloader)
{
    private bool _rescanSoon;
    private bool _stopped;

    /// <summary>True (once) when a folder was seen for the first time and should be checked again soon.</summary>
    public bool TakeRescanSoon() => Interlocked.Exchange(ref _rescanSoon, false);

    /// <summary>Shutdown: from now on nothing is loaded or retired by a reconcile (shutdown retires everything itself).</summary>
    public void Stop() => Volatile.Write(ref _stopped, true);

    /// <summary>One pass over every model; a model whose folder cannot be read is reported and the others go on.</summary>
    public void ReconcileAll(IReadOnlyList<ManagedModel> models)
    {
        foreach (var model in models)
        {
            try
            {
                Reconcile(model);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ModelLifecycleLog.ScanFailed(logger, model.Name, model.Config.BasePath, ex.Message);
            }
        }
    }

    public void Reconcile(ManagedModel model)
    {
        if (Volatile.Read(ref _stopped))
        {
            return;
        }

        var toLoad = new List<ModelVersion>();
        lock (model.Gate)
        {
            var config = model.Config;
            var onDisk = ModelManager.ScanVersions(config.BasePath);
            if (onDisk.Count == 0 && !model.ReportedEmpty && !model.Unloaded)
            {
                ModelLifecycleLog.NoVersions(logger, model.Name, config.BasePath);
            }

            model.ReportedEmpty = onDisk.Count == 0;
            // An unloaded model (repository API) wants nothing until it is loaded again.
            var wanted = model.Unloaded ? [] : config.VersionPolicy.Select(onDisk);
            var versions = new List<ModelVersion>(model.Versions);
            var now = time.GetUtcNow();
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

                var version = new ModelVersion(model.Name, number, path, v => Unloaded(model, v), unloader)
                {
                    FileStamp = stamp,
                    Metrics = metrics,
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
                    ModelLifecycleLog.Retiring(logger, model.Name, version.Version);
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
            if (!loads.Start(model, version))
            {
                version.MarkFailed("not loaded: the server is shutting down");
            }
        }
    }

    /// <summary>
    /// A version that was retired while still wanted back (a policy flip, the repository API's unload then load) is
    /// skipped while it drains; once it has unloaded, reconcile its model so it loads again without waiting for a poll.
    /// </summary>
    private void Unloaded(ManagedModel model, ModelVersion version)
    {
        ModelLifecycleLog.Unloaded(logger, version.ModelName, version.Version);
        try
        {
            Reconcile(model);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ModelLifecycleLog.ScanFailed(logger, model.Name, model.Config.BasePath, ex.Message);
        }
    }

    /// <summary>
    /// A version folder is loaded once its files look the same on two scans in a row: a folder renamed into place
    /// (what ModelSync does) passes at the next scan, one still being copied waits until the copy stops changing it.
    /// With polling off there is no second scan, so the first is trusted.
    /// </summary>
    private bool IsSettled(ManagedModel model, long version, string stamp)
    {
        if (options.FileSystemPollWaitSeconds == 0 || model.TrustFilesOnce || options.ModelControlMode == ModelControlMode.Explicit ||
            (model.PendingStamps.TryGetValue(version, out var seen) && seen == stamp))
        {
            model.PendingStamps.Remove(version);
            return true;
        }

        model.PendingStamps[version] = stamp;
        Volatile.Write(ref _rescanSoon, true);
        return false;
    }

    /// <summary>Shutdown: retires every AVAILABLE version; each unloads when its last request ends.</summary>
    public static void RetireAll(IReadOnlyList<ManagedModel> models)
    {
        foreach (var model in models)
        {
            lock (model.Gate)
            {
                foreach (var version in model.Versions)
                {
                    version.Retire();
                }
            }
        }
    }
}
