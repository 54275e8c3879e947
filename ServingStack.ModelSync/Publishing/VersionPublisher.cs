using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using ServingStack.ModelSync.Metrics;
using ServingStack.ModelSync.Sources;
using ServingStack.ModelSync.Sync;

namespace ServingStack.ModelSync.Publishing;

/// <summary>
/// Publishes one version: download every file into <c>.staging/{model}/{version}.{id}</c> (hashing in the same pass),
/// verify sizes and checksums, fsync the files and folders, then one rename into <c>{target}/{model}/{version}</c> and an
/// fsync of the model folder. Until that rename the server sees nothing; after it, everything. A version that fails any
/// check is deleted from staging and never published.
/// </summary>
public sealed class VersionPublisher
{
    private readonly IModelSource _source;
    private readonly StagingArea _staging;
    private readonly ModelSyncMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly TimeSpan _noProgressTimeout;
    private readonly ILogger _logger;

    public VersionPublisher(IModelSource source, StagingArea staging, ModelSyncMetrics metrics, TimeProvider time, TimeSpan noProgressTimeout, ILogger logger)
    {
        _source = source;
        _staging = staging;
        _metrics = metrics;
        _time = time;
        _noProgressTimeout = noProgressTimeout;
        _logger = logger;
    }

    public async Task<PublishOutcome> PublishAsync(SourceVersion version, CancellationToken cancellationToken)
    {
        if (MissingSpace(version) is { } space)
        {
            return new PublishOutcome(null, 0, Fail(version, SyncProblemKind.PublishFailed, version.Key, space));
        }

        string folder;
        try
        {
            folder = _staging.CreateVersionFolder(version.Model, version.Version);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new PublishOutcome(null, 0, Fail(version, SyncProblemKind.PublishFailed, version.Key, $"staging it failed: {ex.Message}"));
        }

        ModelSyncLog.VersionDownloading(_logger, version.Model, version.Version, version.Files.Count, version.TotalBytes, folder);
        long downloaded = 0;
        var published = false;
        try
        {
            foreach (var file in version.Files)
            {
                var (bytes, problem) = await FetchAsync(version, file, folder, cancellationToken);
                downloaded += bytes;
                if (problem is not null)
                {
                    return new PublishOutcome(null, downloaded, problem);
                }
            }

            var destination = Path.Combine(_staging.Target, version.Model, version.Version.ToString(CultureInfo.InvariantCulture));
            try
            {
                DurableFileSystem.FlushTree(folder);
                var modelFolder = Path.GetDirectoryName(destination)!;
                if (!Directory.Exists(modelFolder))
                {
                    Directory.CreateDirectory(modelFolder);
                    DurableFileSystem.FlushDirectory(_staging.Target);
                }

                if (Directory.Exists(destination))
                {
                    return new PublishOutcome(null, downloaded, new SyncProblem(SyncProblemKind.PublishFailed, version.Key,
                        $"{destination} appeared while the version was downloaded; versions are never rewritten"));
                }

                // The one step that makes the version visible: a rename within one file system is atomic.
                Directory.Move(folder, destination);
                published = true;
                DurableFileSystem.FlushDirectory(modelFolder);
                DurableFileSystem.FlushDirectory(Path.GetDirectoryName(folder)!);
            }
            catch (Exception ex) when (!published && ex is IOException or UnauthorizedAccessException)
            {
                return new PublishOutcome(null, downloaded, new SyncProblem(SyncProblemKind.PublishFailed, version.Key, $"publishing into {destination} failed: {ex.Message}"));
            }

            _metrics.RecordPublished(version.Model);
            ModelSyncLog.VersionPublished(_logger, version.Model, version.Version, destination, version.TotalBytes);
            return new PublishOutcome(destination, downloaded, null);
        }
        finally
        {
            if (!published)
            {
                StagingArea.Delete(folder);
            }

            _staging.Tidy(version.Model);
        }
    }

    /// <summary>Why the target's file system cannot hold the version as listed, or null (also when it cannot tell).</summary>
    private string? MissingSpace(SourceVersion version)
    {
        long free;
        try
        {
            free = new DriveInfo(_staging.Target).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }

        return version.TotalBytes > free
            ? string.Create(CultureInfo.InvariantCulture, $"it needs {version.TotalBytes} bytes as listed and the target's file system has {free} free")
            : null;
    }

    /// <summary>One file into staging, tried again after a transient failure (<see cref="TransientRetry"/>); the problem that stopped it, or null.</summary>
    private async Task<(long Bytes, SyncProblem? Problem)> FetchAsync(SourceVersion version, SourceVersionFile file, string folder, CancellationToken cancellationToken)
    {
        var path = file.File.Path;
        var destination = Path.Combine(folder, file.RelativePath.Replace('/', Path.DirectorySeparatorChar));
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (0, Fail(version, SyncProblemKind.PublishFailed, path, $"its folder cannot be created in staging: {ex.Message}"));
        }

        long bytes = 0;
        for (var attempt = 1; ; attempt++)
        {
            var result = await DownloadAsync(version, file, destination, cancellationToken);
            bytes += result.Bytes;
            if (result.Problem is not { } problem)
            {
                return (bytes, null);
            }

            if (!result.Transient || attempt >= TransientRetry.Attempts)
            {
                if (result.Transient)
                {
                    problem = problem with { Message = string.Create(CultureInfo.InvariantCulture, $"{problem.Message} (gave up after {attempt} attempts)") };
                }

                if (!result.Logged)
                {
                    ModelSyncLog.VersionFailed(_logger, version.Model, version.Version, problem.ToString());
                }

                return (bytes, problem);
            }

            var delay = TransientRetry.DelayAfter(attempt);
            ModelSyncLog.DownloadRetrying(_logger, path, problem.Message, delay.TotalSeconds, attempt + 1, TransientRetry.Attempts);
            StagingArea.Delete(destination);
            await Task.Delay(delay, _time, cancellationToken);
        }
    }

    /// <summary>One try at one file: read with a no-progress watchdog, write and hash into staging, verify.</summary>
    private async Task<Attempt> DownloadAsync(SourceVersion version, SourceVersionFile file, string destination, CancellationToken cancellationToken)
    {
        var path = file.File.Path;
        var progress = new CopyProgress(file.File.Size);
        var started = Stopwatch.GetTimestamp();
        long reported = 0;
        using var watchdog = new ProgressWatchdog(_noProgressTimeout, _time, cancellationToken);
        void OnBytes(long total)
        {
            watchdog.Progress();
            _metrics.RecordDownloaded(version.Model, total - reported);
            reported = total;
            if (progress.Advance(total) is { } percent)
            {
                var seconds = Math.Max(Stopwatch.GetElapsedTime(started).TotalSeconds, 1e-6);
                ModelSyncLog.FileProgress(_logger, path, percent, total, file.File.Size, total / seconds / 1e6);
            }
        }

        try
        {
            await using var opened = await _source.OpenAsync(file.File, watchdog.Token);
            watchdog.Progress();
            if (opened.Length is { } length && length != file.File.Size)
            {
                return Attempt.Failed(0, SyncProblemKind.SizeMismatch, path,
                    string.Create(CultureInfo.InvariantCulture, $"size mismatch: listed as {file.File.Size} bytes, the source now sends {length}"));
            }

            var expected = opened.Checksum ?? file.File.Checksum;
            var copied = await StagedFileWriter.CopyAsync(opened.Content, destination, file.File.Size,
                md5: expected?.Algorithm == ChecksumAlgorithm.Md5, OnBytes, watchdog.Token);
            if (copied.Bytes != file.File.Size)
            {
                return Attempt.Failed(copied.Bytes, SyncProblemKind.SizeMismatch, path,
                    string.Create(CultureInfo.InvariantCulture, $"size mismatch: listed as {file.File.Size} bytes, got {copied.Bytes}"));
            }

            if (opened.Confirm is not null && await opened.Confirm(watchdog.Token) is { } changed)
            {
                return Attempt.Failed(copied.Bytes, SyncProblemKind.SourceError, path, changed);
            }

            if (expected is null)
            {
                if (opened.UnverifiableReason is { } reason)
                {
                    ModelSyncLog.NoVerifiableChecksum(_logger, path, reason);
                }
            }
            else
            {
                var actual = expected.Algorithm == ChecksumAlgorithm.Sha256 ? copied.Sha256 : copied.Md5!;
                if (!string.Equals(actual, expected.Hex, StringComparison.Ordinal))
                {
                    ModelSyncLog.ChecksumMismatch(_logger, path, expected.AlgorithmName, expected.Hex, expected.Origin, actual, version.Model, version.Version);
                    return Attempt.Failed(copied.Bytes, SyncProblemKind.ChecksumMismatch, path,
                        $"{expected.AlgorithmName} mismatch: expected {expected.Hex} ({expected.Origin}), got {actual}") with { Logged = true };
                }
            }

            ModelSyncLog.FileVerified(_logger, path, copied.Bytes, copied.Sha256, expected?.ToString() ?? "size only");
            return new Attempt(copied.Bytes, null, Transient: false);
        }
        catch (Exception) when (watchdog.Expired)
        {
            // Whatever the stalled read threw once cancelled (a cancellation, a disposed stream), the cause is the stall.
            return Attempt.Failed(reported, SyncProblemKind.SourceError, path,
                string.Create(CultureInfo.InvariantCulture, $"{watchdog.Describe()} after {reported} of {file.File.Size} bytes"), transient: true);
        }
        catch (SizeMismatchException ex)
        {
            return Attempt.Failed(reported, SyncProblemKind.SizeMismatch, path, ex.Message);
        }
        catch (ModelSourceException ex)
        {
            return Attempt.Failed(reported, SyncProblemKind.SourceError, path, ex.Message, ex.IsTransient);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or System.Net.Sockets.SocketException)
        {
            // A dropped connection surfaces as an IOException from the body stream (a bare SocketException from some clients).
            return Attempt.Failed(reported, SyncProblemKind.SourceError, path, $"download failed: {ex.Message}", transient: true);
        }
        catch (UnauthorizedAccessException ex)
        {
            return Attempt.Failed(reported, SyncProblemKind.SourceError, path, $"download failed: {ex.Message}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever a source's client throws (an SDK's own exception) fails this version, never the process.
            return Attempt.Failed(reported, SyncProblemKind.SourceError, path, $"download failed: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private SyncProblem Fail(SourceVersion version, SyncProblemKind kind, string path, string message)
    {
        ModelSyncLog.VersionFailed(_logger, version.Model, version.Version, $"{path}: {message}");
        return new SyncProblem(kind, path, message);
    }

    /// <summary>How one try ended: the bytes it read, and the problem (null on success); Transient ones are tried again.</summary>
    private readonly record struct Attempt(long Bytes, SyncProblem? Problem, bool Transient)
    {
        /// <summary>Already logged with its own event (a checksum mismatch).</summary>
        public bool Logged { get; init; }

        public static Attempt Failed(long bytes, SyncProblemKind kind, string path, string message, bool transient = false) =>
            new(bytes, new SyncProblem(kind, path, message), transient);
    }
}
