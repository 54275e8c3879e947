namespace Microsoft.Extensions.Hosting;

/// <summary>Section <c>ConnectionDrain</c>: the drain of a process that has no drain settings of its own (the gateway).</summary>
public sealed class ConnectionDrainOptions
{
    public const string SectionName = "ConnectionDrain";

    /// <summary>
    /// On SIGTERM, how long to keep serving (every response asking its client to reconnect) before the listeners close.
    /// 0 (the default) stops at once; Kestrel still finishes in-flight requests.
    /// </summary>
    public double DelaySeconds { get; set; }
}
