namespace ServingStack.ModelSync.Sync;

/// <summary>Why a sync is not complete; the <c>reason</c> label of <c>servingstack_modelsync_failures_total</c>.</summary>
public enum SyncProblemKind
{
    /// <summary>The source could not be listed.</summary>
    ListingFailed,

    /// <summary>The source lists no <c>{model}/{version}/</c> files at all (a wrong bucket, prefix or URL, usually).</summary>
    EmptySource,

    /// <summary>A file's digest differs from the one the source vouches for; the version is not published.</summary>
    ChecksumMismatch,

    /// <summary>A file's length differs from the listed size; the version is not published.</summary>
    SizeMismatch,

    /// <summary>Reading a file from the source failed, or it changed while it was copied.</summary>
    SourceError,

    /// <summary>A folder source's version is still being written (its files changed between two listings).</summary>
    Unsettled,

    /// <summary>A listed file name cannot be written safely (<c>..</c>, empty segments).</summary>
    UnsafePath,

    /// <summary>A version already in the target lacks a listed file or has it at another size (versions are never rewritten).</summary>
    TargetMismatch,

    /// <summary>Writing, flushing or renaming in the target failed.</summary>
    PublishFailed,
}
