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
        _publisher = new VersionPublisher(source, _staging, metrics, logger);
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
            await RunAsync(pass, cancellationToken);
            var report = new SyncReport(_time.GetUtcNow(), _time.GetElapsedTime(started), pass.Published, pass.Present, pass.Removed, pass.Bytes, pass.Problems);
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

        IReadOnlyList<SourceFile> listing;
        try
        {
            listing = await _source.ListAsync(cancellationToken);
        }
        catch (ModelSourceException ex)
        {
            ModelSyncLog.ListingFailed(_logger, _source.Description, ex.Message);
            pass.Problems.Add(new SyncProblem(SyncProblemKind.ListingFailed, _source.Description, ex.Message));
            return;
        }

        var versions = Group(listing, pass);
        if (versions.Count == 0 && pass.Problems.Count == 0)
        {
            pass.Problems.Add(new SyncProblem(SyncProblemKind.EmptySource, _source.Description,
                "the source lists no model versions ({model}/{version}/... with a numeric version); check the bucket, prefix, URL or folder"));
            return;
        }

        var target = TargetRepository.Scan(Target);
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

                await SyncVersionAsync(version, inTarget, pass, cancellationToken);
            }
        }

        ApplyRetention(pass);
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

    /// <summary>model → version → the version's files, or null when a file name is unsafe (the version then fails).</summary>
    private Dictionary<string, SortedDictionary<long, SourceVersion?>> Group(IReadOnlyList<SourceFile> listing, Pass pass)
    {
        var files = new Dictionary<(string Model, long Version), List<SourceVersionFile>>();
        var folders = new Dictionary<(string Model, long Version), string>();
        var failed = new HashSet<(string, long)>();
        foreach (var file in listing)
        {
            switch (ModelFilePath.Classify(file.Path, out var path, out var reason))
            {
                case ModelPathKind.Ignored:
                    ModelSyncLog.IgnoredSourcePath(_logger, file.Path, reason!);
                    continue;
                case ModelPathKind.Unsafe:
                    if (failed.Add((path.Model, path.Version)))
                    {
                        pass.Problems.Add(new SyncProblem(SyncProblemKind.UnsafePath, path.VersionKey, reason!));
                    }

                    continue;
            }

            var key = (path.Model, path.Version);
            if (folders.TryGetValue(key, out var folder) && folder != path.VersionFolder)
            {
                if (failed.Add(key))
                {
                    pass.Problems.Add(new SyncProblem(SyncProblemKind.UnsafePath, path.VersionKey,
                        $"the source has two folders for this version, '{folder}' and '{path.VersionFolder}'"));
                }

                continue;
            }

            folders[key] = path.VersionFolder;
            if (!files.TryGetValue(key, out var list))
            {
                files[key] = list = [];
            }

            list.Add(new SourceVersionFile(file, path.File));
        }

        var versions = new Dictionary<string, SortedDictionary<long, SourceVersion?>>(StringComparer.Ordinal);
        foreach (var key in files.Keys.Concat(failed).Distinct())
        {
            if (!versions.TryGetValue(key.Item1, out var byNumber))
            {
                versions[key.Item1] = byNumber = [];
            }

            byNumber[key.Item2] = failed.Contains(key) ? null : new SourceVersion(key.Item1, key.Item2, files[key]);
        }

        return versions;
    }

    private void ApplyRetention(Pass pass)
    {
        if (_options.Keep <= 0)
        {
            return;
        }

        foreach (var (model, versions) in TargetRepository.Scan(Target))
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
    }
}
