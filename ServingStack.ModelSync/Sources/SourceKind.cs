namespace ServingStack.ModelSync.Sources;

/// <summary>The kinds of place model versions are synced from.</summary>
public enum SourceKind
{
    /// <summary><c>s3://bucket/prefix</c>, AWS or any S3-compatible store.</summary>
    S3,

    /// <summary><c>http(s)://.../index.json</c>: an index document listing files, sizes and SHA-256.</summary>
    HttpIndex,

    /// <summary>A local or mounted folder (<c>/path</c> or <c>file:///path</c>).</summary>
    FileSystem,
}
