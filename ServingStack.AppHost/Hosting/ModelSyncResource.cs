namespace ServingStack.AppHost.Hosting;

/// <summary>
/// The model sync (ServingStack.ModelSync). Locally it is one process filling a folder every server reads; published,
/// each inference pod runs it as an init container (<c>--once</c>) and a sidecar sharing the pod's model volume.
/// </summary>
public sealed class ModelSyncResource(string name, string localSource, ParameterResource publishedSource) : ProjectResource(name)
{
    /// <summary>The folder the sync copies from when the graph runs locally.</summary>
    public string LocalSource { get; } = localSource;

    /// <summary>Where published pods sync from (<c>s3://bucket/prefix</c>, an HTTP index, or a folder).</summary>
    public ParameterResource PublishedSource { get; } = publishedSource;

    /// <summary>The folder the local process writes to, and that local servers read.</summary>
    public required string LocalTarget { get; init; }

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Versions kept per model; 0 keeps all.</summary>
    public int Keep { get; set; }

    /// <summary>An S3-compatible endpoint for published pods, when not AWS itself.</summary>
    public string? S3Endpoint { get; set; }

    /// <summary>The name of a Secret holding <c>AWS_ACCESS_KEY_ID</c>/<c>AWS_SECRET_ACCESS_KEY</c>; referenced, never written.</summary>
    public string? CredentialsSecret { get; set; }

    /// <summary>The interval as the sync's flag takes it (whole seconds).</summary>
    public string IntervalArgument => $"{(long)Interval.TotalSeconds}s";
}
