namespace ServingStack.ModelSync.Sources;

/// <summary>
/// Cancels a transfer that receives nothing for <see cref="Timeout"/>: armed when created, re-armed by every
/// <see cref="Progress"/>. A source that stops sending mid-body keeps its connection open and never fails by itself;
/// an overall deadline would instead fail large files on slow links.
/// </summary>
public sealed class ProgressWatchdog : IDisposable
{
    private readonly CancellationTokenSource _expired;
    private readonly CancellationTokenRegistration _caller;
    private readonly CancellationToken _callerToken;

    public ProgressWatchdog(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        Timeout = timeout;
        _callerToken = cancellationToken;
        _expired = new CancellationTokenSource(timeout, time);
        _caller = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _expired);
    }

    public TimeSpan Timeout { get; }

    /// <summary>Cancelled when the timeout passes without progress, or when the caller's token is.</summary>
    public CancellationToken Token => _expired.Token;

    /// <summary>True when the watchdog, not the caller, cancelled.</summary>
    public bool Expired => _expired.IsCancellationRequested && !_callerToken.IsCancellationRequested;

    /// <summary>"no progress for 60 s (ModelSync:NoProgressTimeout)", for messages.</summary>
    public string Describe() => Describe(Timeout);

    public static string Describe(TimeSpan timeout) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no progress for {timeout.TotalSeconds:0.###} s (ModelSync:NoProgressTimeout)");

    /// <summary>Bytes arrived: the timeout starts again.</summary>
    public void Progress()
    {
        if (!_expired.IsCancellationRequested)
        {
            _expired.CancelAfter(Timeout);
        }
    }

    public void Dispose()
    {
        _caller.Dispose();
        _expired.Dispose();
    }
}
