using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServingStack.ModelSync.Configuration;
using ServingStack.ModelSync.Metrics;
using ServingStack.ModelSync.Publishing;
using ServingStack.ModelSync.Sources;

namespace ServingStack.ModelSync.Sync;

/// <summary>
/// One sync pass: list the source, publish every wanted version that the target lacks (newest first), check the ones
/// it has, then apply retention. Versions are immutable: one already in the target is never rewritten. The first pass
/// takes the staging area's lock and removes stale staging left by an earlier, interrupted process.
/// </summary>
public sealed class ModelSyncer : IDisposable
{
    private readonly IModelSource _source;
    private readonly ModelSyncOptions _options;
    private readonly ModelSyncMetrics _metrics;
    private readonly SyncState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StagingArea _staging;
    private readonly VersionPublisher _publisher;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _opened;

    public ModelSyncer(IModelSource source, IOptions<ModelSyncOptions> options, ModelSyncMetrics metrics, SyncState state, TimeProvider time, ILogger<ModelSyncer> logger)
    {
        _source = source;
        _options = options.Value;
        _metrics = metrics;
        _state = state;
        _time = time;
        _logger = logger;
        _staging = new StagingArea(_options.Target!);
        _publisher = new VersionPublisher(source, _staging, metrics, time, _options.NoProgressTimeoutValue, logger);
    }

    public string Target => _staging.Target;

    public string SourceDescription => _source.Description;

    public async Task<SyncReport> SyncAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var started = _time.GetTimestamp();
            var pass = new Pass();
            try
            {
                await RunAsync(pass, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A bug or a fault nobody foresaw: reported like any problem, so --once exits 1 with it instead of crashing.
                ModelSyncLog.SyncPassFailed(_logger, ex);
                pass.Problems.Add(new SyncProblem(SyncProblemKind.PublishFailed, Target, $"the pass failed unexpectedly: {ex.GetType().Name}: {ex.Message}"));
                pass.Serviceable = false;
            }

            var report = new SyncReport(_time.GetUtcNow(), _time.GetElapsedTime(started), pass.Published, pass.Present, pass.Removed, pass.Bytes, pass.Problems)
            {
                Serviceable = pass.Serviceable,
            };
            Record(report);
            return report;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _staging.Dispose();
        _gate.Dispose();
    }

    private async Task RunAsync(Pass pass, CancellationToken cancellationToken)
    {
        ModelSyncLog.SyncStarting(_logger, _source.Description, Target);
        if (!OpenStaging(pass))
        {
            return;
        }

        if (await ListAsync(pass, cancellationToken) is not { } listing)
        {
            return;
        }

        var versions = Group(listing, pass);
        if (versions.Count == 0 && pass.Problems.Count == 0)
        {
            pass.Problems.Add(new SyncProblem(SyncProblemKind.EmptySource, _source.Description,
                "the source lists no model versions ({model}/{version}/... with a numeric version); check the bucket, prefix, URL or folder"));
            return;
        }

        if (ScanTarget(pass) is not { } target)
        {
            return;
        }

        foreach (var model in versions.Keys.Order(StringComparer.Ordinal))
        {
            var inTarget = target.TryGetValue(model, out var present) ? present : new SortedDictionary<long, string>();
            foreach (var number in RetentionPolicy.Wanted(versions[model].Keys, inTarget.Keys, _options.Keep))
            {
                var version = versions[model][number];
                if (version is null)
                {
                    continue; // an unsafe path already failed it
                }

                try
                {
                    await SyncVersionAsync(version, inTarget, pass, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // One version's surprise must not stop the others (nor, in polling mode, every later pass).
                    ModelSyncLog.VersionSyncFailed(_logger, version.Model, version.Version, ex);
                    pass.Problems.Add(new SyncProblem(SyncProblemKind.PublishFailed, version.Key, $"failed unexpectedly: {ex.GetType().Name}: {ex.Message}"));
                }
            }
        }

        ApplyRetention(pass);

        // Serviceable: every model the source lists has a version the server can load, whatever else failed.
        if (ScanTarget(pass) is { } after)
        {
            pass.Serviceable = versions.Keys.All(m => after.TryGetValue(m, out var kept) && kept.Count > 0);
        }
    }

    /// <summary>The source's listing, tried again after a transient failure (<see cref="TransientRetry"/>); null (with the problem recorded) when it failed.</summary>
    private async Task<IReadOnlyList<SourceFile>?> ListAsync(Pass pass, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            string message;
            try
            {
                return await _source.ListAsync(cancellationToken);
            }
            catch (ModelSourceException ex) when (ex.IsTransient && attempt < TransientRetry.Attempts)
            {
                var delay = TransientRetry.DelayAfter(attempt);
                ModelSyncLog.ListingRetrying(_logger, ex.Message, delay.TotalSeconds, attempt + 1, TransientRetry.Attempts);
                await Task.Delay(delay, _time, cancellationToken);
                continue;
            }
            catch (ModelSourceException ex)
            {
                message = ex.IsTransient ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ex.Message} (gave up after {attempt} attempts)") : ex.Message;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Anything a source let through still only fails the listing.
                message = $"listing {_source.Description} failed: {ex.GetType().Name}: {ex.Message}";
            }

            ModelSyncLog.ListingFailed(_logger, _source.Description, message);
            pass.Problems.Add(new SyncProblem(SyncProblemKind.ListingFailed, _source.Description, message));
            return null;
        }
    }

    /// <summary>The target's models and versions, or null (with the problem recorded) when it cannot be read.</summary>
    private Dictionary<string, SortedDictionary<long, string>>? ScanTarget(Pass pass)
    {
        try
        {
            return TargetRepository.Scan(Target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            pass.Problems.Add(new SyncProblem(SyncProblemKind.PublishFailed, Target, $"the target cannot be read: {ex.Message}"));
            return null;
        }
    }

    private async Task SyncVersionAsync(SourceVersion version, SortedDictionary<long, string> inTarget, Pass pass, CancellationToken cancellationToken)
    {
        if (inTarget.TryGetValue(version.Version, out var existing))
        {
            if (TargetRepository.Compare(existing, version) is { } difference)
            {
                ModelSyncLog.TargetVersionMismatch(_logger, version.Model, version.Version, difference);
                pass.Problems.Add(new SyncProblem(SyncProblemKind.TargetMismatch, version.Key, $"{existing} differs from the source: {difference}"));
            }
            else
            {
                pass.Present.Add(version.Key);
            }

            return;
        }

        if (!version.Settled)
        {
            ModelSyncLog.VersionUnsettled(_logger, version.Model, version.Version);
            pass.Problems.Add(new SyncProblem(SyncProblemKind.Unsettled, version.Key, "still being written in the source (files changed between two listings)"));
            return;
        }

        var outcome = await _publisher.PublishAsync(version, cancellationToken);
        pass.Bytes += outcome.BytesDownloaded;
        if (outcome.Published)
        {
            pass.Published.Add(version.Key);
            inTarget[version.Version] = outcome.Path!;
        }
        else
        {
            pass.Problems.Add(outcome.Problem!);
        }
    }

    /// <summary>
    /// model → version → the version's files, or null when the version cannot be written safely: an unsafe name, an
    /// entry the source refused (a link out of a folder source), two folders for one version, a name listed twice or
    /// both as a file and as a folder. Each such version is reported once and skipped; the others go on.
    /// </summary>
    private Dictionary<string, SortedDictionary<long, SourceVersion?>> Group(IReadOnlyList<SourceFile> listing, Pass pass)
    {
        var files = new Dictionary<(string Model, long Version), List<SourceVersionFile>>();
        var folders = new Dictionary<(string Model, long Version), string>();
        var failed = new HashSet<(string Model, long Version)>();
        void Refuse(string model, long version, string reason)
        {
            if (failed.Add((model, version)))
            {
                Unsafe(pass, ModelFilePath.VersionName(model, version), reason);
            }
        }

        foreach (var file in listing)
        {
            if (file.Problem is { } refused)
            {
                if (ModelFilePath.TryParseVersionFolder(file.Path, out var refusedModel, out var refusedVersion))
                {
                    Refuse(refusedModel, refusedVersion, refused);
                }
                else
                {
                    Unsafe(pass, ModelFilePath.Display(file.Path), refused);
                }

                continue;
            }

            switch (ModelFilePath.Classify(file.Path, out var path, out var reason))
            {
                case ModelPathKind.Ignored:
                    ModelSyncLog.IgnoredSourcePath(_logger, ModelFilePath.Display(file.Path), reason!);
                    continue;
                case ModelPathKind.Unsafe:
                    Refuse(path.Model, path.Version, reason!);
                    continue;
            }

            var key = (path.Model, path.Version);
            if (file.Size < 0)
            {
                Refuse(path.Model, path.Version, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{ModelFilePath.Display(file.Path)} is listed with a size of {file.Size} bytes"));
                continue;
            }

            if (folders.TryGetValue(key, out var folder) && folder != path.VersionFolder)
            {
                Refuse(path.Model, path.Version, $"the source has two folders for this version, '{folder}' and '{path.VersionFolder}'");
                continue;
            }

            folders[key] = path.VersionFolder;
            if (!files.TryGetValue(key, out var list))
            {
                files[key] = list = [];
            }

            list.Add(new SourceVersionFile(file, path.File));
        }

        foreach (var (key, list) in files)
        {
            if (!failed.Contains(key) && NameClash(list) is { } clash)
            {
                Refuse(key.Model, key.Version, clash);
            }
        }

        var versions = new Dictionary<string, SortedDictionary<long, SourceVersion?>>(StringComparer.Ordinal);
        foreach (var key in files.Keys.Concat(failed).Distinct())
        {
            if (!versions.TryGetValue(key.Model, out var byNumber))
            {
                versions[key.Model] = byNumber = [];
            }

            byNumber[key.Version] = failed.Contains(key) ? null : new SourceVersion(key.Model, key.Version, files[key]);
        }

        return versions;
    }

    /// <summary>Why a version's files cannot all be written: a name listed twice, or a file that is also a folder of another.</summary>
    private static string? NameClash(List<SourceVersionFile> files)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!names.Add(file.RelativePath))
            {
                return $"'{ModelFilePath.Display(file.RelativePath)}' is listed twice";
            }
        }

        foreach (var file in files)
        {
            var name = file.RelativePath;
            for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash >= 0; slash = name.IndexOf('/', slash + 1))
            {
                if (names.Contains(name[..slash]))
                {
                    return $"'{ModelFilePath.Display(name[..slash])}' is listed both as a file and as a folder ({ModelFilePath.Display(name)})";
                }
            }
        }

        return null;
    }

    private void Unsafe(Pass pass, string subject, string reason)
    {
        ModelSyncLog.UnsafeSourceVersion(_logger, subject, reason);
        pass.Problems.Add(new SyncProblem(SyncProblemKind.UnsafePath, subject, reason));
    }

    private void ApplyRetention(Pass pass)
    {
        if (_options.Keep <= 0)
        {
            return;
        }

        foreach (var (model, versions) in ScanTarget(pass) ?? [])
        {
            foreach (var number in RetentionPolicy.ToRemove(versions.Keys, _options.Keep))
            {
                var folder = versions[number];
                try
                {
                    // Out of the model folder first (one rename: the server sees the version vanish at once), then delete.
                    var retired = _staging.RetiredPath(model, number);
                    Directory.Move(folder, retired);
                    DurableFileSystem.FlushDirectory(Path.GetDirectoryName(folder)!);
                    StagingArea.Delete(retired);
                    _staging.Tidy(model);
                    pass.Removed.Add(ModelFilePath.VersionName(model, number));
                    ModelSyncLog.VersionRetired(_logger, model, number, _options.Keep);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    ModelSyncLog.RetireFailed(_logger, model, number, ex.Message);
                    pass.Problems.Add(new SyncProblem(SyncProblemKind.PublishFailed, ModelFilePath.VersionName(model, number), $"retention could not remove it: {ex.Message}"));
                }
            }
        }
    }

    private bool OpenStaging(Pass pass)
    {
        if (_opened)
        {
            return true;
        }

        try
        {
            foreach (var removed in _staging.Open())
            {
                ModelSyncLog.StaleStagingRemoved(_logger, removed);
            }

            _opened = true;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            pass.Problems.Add(new SyncProblem(SyncProblemKind.PublishFailed, Target, ex.Message));
            return false;
        }
    }

    private void Record(SyncReport report)
    {
        _state.Record(report);
        _metrics.RecordSync(report.Succeeded, report.Elapsed, report.Finished);
        foreach (var problem in report.Problems)
        {
            _metrics.RecordFailure(problem.Reason);
        }

        if (report.Succeeded)
        {
            ModelSyncLog.SyncCompleted(_logger, report.Elapsed.TotalMilliseconds, report.Published.Count, report.Present.Count, report.Removed.Count, report.BytesDownloaded);
        }
        else
        {
            ModelSyncLog.SyncIncomplete(_logger, report.Elapsed.TotalMilliseconds, report.Published.Count, report.Problems.Count, string.Join("; ", report.Problems));
        }
    }

    private sealed class Pass
    {
        public List<string> Published { get; } = [];

        public List<string> Present { get; } = [];

        public List<string> Removed { get; } = [];

        public List<SyncProblem> Problems { get; } = [];

        public long Bytes { get; set; }

        public bool Serviceable { get; set; }
    }
}
