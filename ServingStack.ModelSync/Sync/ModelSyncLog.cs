using Microsoft.Extensions.Logging;

namespace ServingStack.ModelSync.Sync;

/// <summary>Every log line of the sidecar, with stable event ids (1-19 sync passes, 20-39 versions and files, 40-59 staging and retention).</summary>
internal static partial class ModelSyncLog
{
    [LoggerMessage(EventId = 1, EventName = "SyncStarting", Level = LogLevel.Debug, Message = "Syncing {Source} into {Target}")]
    public static partial void SyncStarting(ILogger logger, string source, string target);

    [LoggerMessage(EventId = 2, EventName = "SyncCompleted", Level = LogLevel.Information,
        Message = "Sync complete in {Milliseconds:F0} ms: {Published} published, {Present} already present, {Removed} removed, {Bytes} bytes downloaded")]
    public static partial void SyncCompleted(ILogger logger, double milliseconds, int published, int present, int removed, long bytes);

    [LoggerMessage(EventId = 3, EventName = "SyncIncomplete", Level = LogLevel.Warning,
        Message = "Sync incomplete after {Milliseconds:F0} ms: {Published} published, {ProblemCount} problem(s): {Problems}")]
    public static partial void SyncIncomplete(ILogger logger, double milliseconds, int published, int problemCount, string problems);

    [LoggerMessage(EventId = 4, EventName = "ListingFailed", Level = LogLevel.Error, Message = "Could not list {Source}: {Error}")]
    public static partial void ListingFailed(ILogger logger, string source, string error);

    [LoggerMessage(EventId = 5, EventName = "NextSync", Level = LogLevel.Debug, Message = "Next sync in {Seconds:F1} s (consecutive failures: {Failures})")]
    public static partial void NextSync(ILogger logger, double seconds, int failures);

    [LoggerMessage(EventId = 6, EventName = "IgnoredSourcePath", Level = LogLevel.Debug, Message = "Ignoring {Path}: {Reason}")]
    public static partial void IgnoredSourcePath(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 7, EventName = "SyncPassFailed", Level = LogLevel.Error, Message = "Sync pass failed unexpectedly")]
    public static partial void SyncPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 8, EventName = "ListingRetrying", Level = LogLevel.Warning,
        Message = "{Reason}; retrying in {Seconds} s (attempt {Attempt} of {Attempts})")]
    public static partial void ListingRetrying(ILogger logger, string reason, double seconds, int attempt, int attempts);

    [LoggerMessage(EventId = 20, EventName = "VersionDownloading", Level = LogLevel.Information,
        Message = "Downloading {Model} version {Version}: {Files} file(s), {Bytes} bytes, into {Staging}")]
    public static partial void VersionDownloading(ILogger logger, string model, long version, int files, long bytes, string staging);

    [LoggerMessage(EventId = 21, EventName = "VersionPublished", Level = LogLevel.Information,
        Message = "Published {Model} version {Version} at {Path} ({Bytes} bytes verified)")]
    public static partial void VersionPublished(ILogger logger, string model, long version, string path, long bytes);

    [LoggerMessage(EventId = 22, EventName = "FileProgress", Level = LogLevel.Information,
        Message = "{Path}: {Percent}% ({Bytes} of {Total} bytes, {MegabytesPerSecond:F1} MB/s)")]
    public static partial void FileProgress(ILogger logger, string path, int percent, long bytes, long total, double megabytesPerSecond);

    [LoggerMessage(EventId = 23, EventName = "FileVerified", Level = LogLevel.Debug, Message = "{Path}: {Bytes} bytes, SHA-256 {Sha256}, verified by {Verification}")]
    public static partial void FileVerified(ILogger logger, string path, long bytes, string sha256, string verification);

    [LoggerMessage(EventId = 24, EventName = "ChecksumMismatch", Level = LogLevel.Error,
        Message = "{Path}: {Algorithm} mismatch, expected {Expected} ({Origin}), got {Actual}; {Model} version {Version} is not published")]
    public static partial void ChecksumMismatch(ILogger logger, string path, string algorithm, string expected, string origin, string actual, string model, long version);

    [LoggerMessage(EventId = 25, EventName = "VersionFailed", Level = LogLevel.Error, Message = "{Model} version {Version} is not published: {Reason}")]
    public static partial void VersionFailed(ILogger logger, string model, long version, string reason);

    [LoggerMessage(EventId = 26, EventName = "VersionUnsettled", Level = LogLevel.Information,
        Message = "{Model} version {Version} is still changing in the source; waiting for it to settle")]
    public static partial void VersionUnsettled(ILogger logger, string model, long version);

    [LoggerMessage(EventId = 27, EventName = "NoVerifiableChecksum", Level = LogLevel.Warning,
        Message = "{Path}: only its size can be checked: {Reason}")]
    public static partial void NoVerifiableChecksum(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 28, EventName = "TargetVersionMismatch", Level = LogLevel.Warning,
        Message = "{Model} version {Version} in the target differs from the source ({Reason}); versions are never rewritten")]
    public static partial void TargetVersionMismatch(ILogger logger, string model, long version, string reason);

    [LoggerMessage(EventId = 29, EventName = "DownloadRetrying", Level = LogLevel.Warning,
        Message = "{Path}: {Reason}; retrying in {Seconds} s (attempt {Attempt} of {Attempts})")]
    public static partial void DownloadRetrying(ILogger logger, string path, string reason, double seconds, int attempt, int attempts);

    [LoggerMessage(EventId = 30, EventName = "UnsafeSourceVersion", Level = LogLevel.Error, Message = "{Subject} is not synced: {Reason}")]
    public static partial void UnsafeSourceVersion(ILogger logger, string subject, string reason);

    [LoggerMessage(EventId = 31, EventName = "VersionSyncFailed", Level = LogLevel.Error, Message = "{Model} version {Version} failed unexpectedly; the other versions go on")]
    public static partial void VersionSyncFailed(ILogger logger, string model, long version, Exception exception);

    [LoggerMessage(EventId = 40, EventName = "StaleStagingRemoved", Level = LogLevel.Information, Message = "Removed stale staging {Path}")]
    public static partial void StaleStagingRemoved(ILogger logger, string path);

    [LoggerMessage(EventId = 41, EventName = "VersionRetired", Level = LogLevel.Information,
        Message = "Removed {Model} version {Version}: retention keeps the newest {Keep}")]
    public static partial void VersionRetired(ILogger logger, string model, long version, int keep);

    [LoggerMessage(EventId = 42, EventName = "RetireFailed", Level = LogLevel.Warning, Message = "Could not remove {Model} version {Version}: {Error}")]
    public static partial void RetireFailed(ILogger logger, string model, long version, string error);
}
