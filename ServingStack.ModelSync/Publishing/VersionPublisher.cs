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
    private readonly ILogger _logger;

    public VersionPublisher(IModelSource source, StagingArea staging, ModelSyncMetrics metrics, ILogger logger)
    {
        _source = source;
        _staging = staging;
        _metrics = metrics;
        _logger = logger;
    }

    public async Task<PublishOutcome> PublishAsync(SourceVersion version, CancellationToken cancellationToken)
    {
        var folder = _staging.CreateVersionFolder(version.Model, version.Version);
        ModelSyncLog.VersionDownloading(_logger, version.Model, version.Version, version.Files.Count, version.TotalBytes, folder);
        long downloaded = 0;
        var published = false;
        try
        {
            foreach (var file in version.Files)
            {
                var (bytes, problem) = await DownloadAsync(version, file, folder, cancellationToken);
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

    private async Task<(long Bytes, SyncProblem? Problem)> DownloadAsync(SourceVersion version, SourceVersionFile file, string folder, CancellationToken cancellationToken)
    {
        var path = file.File.Path;
        var destination = Path.Combine(folder, file.RelativePath.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        var progress = new CopyProgress(file.File.Size);
        var started = Stopwatch.GetTimestamp();
        long reported = 0;
        void OnBytes(long total)
        {
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
            await using var opened = await _source.OpenAsync(file.File, cancellationToken);
            if (opened.Length is { } length && length != file.File.Size)
            {
                return (0, Fail(version, SyncProblemKind.SizeMismatch, path,
                    string.Create(CultureInfo.InvariantCulture, $"size mismatch: listed as {file.File.Size} bytes, the source now sends {length}")));
            }

            var expected = opened.Checksum ?? file.File.Checksum;
            var copied = await StagedFileWriter.CopyAsync(opened.Content, destination, file.File.Size,
                md5: expected?.Algorithm == ChecksumAlgorithm.Md5, OnBytes, cancellationToken);
            if (copied.Bytes != file.File.Size)
            {
                return (copied.Bytes, Fail(version, SyncProblemKind.SizeMismatch, path,
                    string.Create(CultureInfo.InvariantCulture, $"size mismatch: listed as {file.File.Size} bytes, got {copied.Bytes}")));
            }

            if (opened.Confirm is not null && await opened.Confirm(cancellationToken) is { } changed)
            {
                return (copied.Bytes, Fail(version, SyncProblemKind.SourceError, path, changed));
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
                    return (copied.Bytes, new SyncProblem(SyncProblemKind.ChecksumMismatch, path,
                        $"{expected.AlgorithmName} mismatch: expected {expected.Hex} ({expected.Origin}), got {actual}"));
                }
            }

            ModelSyncLog.FileVerified(_logger, path, copied.Bytes, copied.Sha256, expected?.ToString() ?? "size only");
            return (copied.Bytes, null);
        }
        catch (SizeMismatchException ex)
        {
            return (reported, Fail(version, SyncProblemKind.SizeMismatch, path, ex.Message));
        }
        catch (ModelSourceException ex)
        {
            return (reported, Fail(version, SyncProblemKind.SourceError, path, ex.Message));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HttpRequestException)
        {
            // A dropped connection surfaces as an IOException from the body stream.
            return (reported, Fail(version, SyncProblemKind.SourceError, path, $"download failed: {ex.Message}"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Whatever a source's client throws (an SDK's own exception, a timeout) fails this version, never the process.
            return (reported, Fail(version, SyncProblemKind.SourceError, path, $"download failed: {ex.GetType().Name}: {ex.Message}"));
        }
    }

    private SyncProblem Fail(SourceVersion version, SyncProblemKind kind, string path, string message)
    {
        ModelSyncLog.VersionFailed(_logger, version.Model, version.Version, $"{path}: {message}");
        return new SyncProblem(kind, path, message);
    }
}
