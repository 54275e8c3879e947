namespace ServingStack.ModelSync.Configuration;

/// <summary>
/// The sidecar's settings, section <c>ModelSync</c> (<c>ModelSync__Source</c> in the environment); the flags
/// <c>--source --target --once --interval --keep --s3-endpoint</c> map onto these.
/// </summary>
public sealed class ModelSyncOptions
{
    public const string SectionName = "ModelSync";

    public static readonly TimeSpan DefaultNoProgressTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Where the versions come from: <c>s3://bucket/prefix</c>, <c>http(s)://host/path/index.json</c>, or a folder.</summary>
    public string? Source { get; set; }

    /// <summary>The server's model repository: versions land in <c>{Target}/{model}/{version}</c>.</summary>
    public string? Target { get; set; }

    /// <summary>Sync once and exit (an init container): 0 when the repository is complete, non-zero otherwise.</summary>
    public bool Once { get; set; }

    /// <summary>Time between polls, as <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>500ms</c>, a number of seconds, or <c>hh:mm:ss</c>.</summary>
    public string Interval { get; set; } = "30s";

    /// <summary>Versions kept per model, the newest; 0 keeps every version.</summary>
    public int Keep { get; set; }

    /// <summary>
    /// An S3-compatible endpoint (MinIO, Ceph, s3rver...) for <c>s3://</c> sources; without it the standard
    /// <c>AWS_ENDPOINT_URL_S3</c> and <c>AWS_ENDPOINT_URL</c> variables are read, then AWS itself is used.
    /// </summary>
    public string? S3Endpoint { get; set; }

    /// <summary>
    /// How long a listing or a download may go without receiving a byte before it is abandoned (and a download retried):
    /// a source that stops sending mid-body holds its connection open and never fails by itself. Same format as
    /// <see cref="Interval"/>, 1s to 1h.
    /// </summary>
    public string NoProgressTimeout { get; set; } = "60s";

    /// <summary><see cref="Interval"/> parsed; only valid once the options passed validation.</summary>
    public TimeSpan IntervalValue => Duration.TryParse(Interval, out var value) ? value : TimeSpan.FromSeconds(30);

    /// <summary><see cref="NoProgressTimeout"/> parsed; only valid once the options passed validation.</summary>
    public TimeSpan NoProgressTimeoutValue => Duration.TryParse(NoProgressTimeout, out var value) ? value : DefaultNoProgressTimeout;
}
