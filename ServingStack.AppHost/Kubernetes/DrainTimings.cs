namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// One timeline for a pod's shutdown, so the preStop hook, the server's drain flags and the grace period agree:
/// the kubelet runs preStop (the pod is already out of the Service's endpoints; proxies catch up meanwhile), then
/// sends SIGTERM; the server turns not-ready, keeps serving for <see cref="ServerDrainDelaySeconds"/>, then finishes
/// in-flight work within <see cref="ServerShutdownGraceSeconds"/>. The grace period covers all of it plus a margin,
/// so SIGKILL never cuts a drain short.
/// </summary>
internal static class DrainTimings
{
    public const int PreStopSleepSeconds = 5;

    public const int ServerDrainDelaySeconds = 5;

    public const int ServerShutdownGraceSeconds = 20;

    /// <summary>ASP.NET Core's host shutdown timeout for the gateway (<c>DOTNET_shutdownTimeoutSeconds</c>).</summary>
    public const int GatewayShutdownSeconds = 20;

    private const int MarginSeconds = 5;

    public const int ServerTerminationGraceSeconds = PreStopSleepSeconds + ServerDrainDelaySeconds + ServerShutdownGraceSeconds + MarginSeconds;

    public const int GatewayTerminationGraceSeconds = PreStopSleepSeconds + GatewayShutdownSeconds + MarginSeconds;
}
