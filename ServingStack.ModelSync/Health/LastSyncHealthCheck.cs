using Microsoft.Extensions.Diagnostics.HealthChecks;
using ServingStack.ModelSync.Sync;

namespace ServingStack.ModelSync.Health;

/// <summary>
/// Readiness: healthy when the last pass left the repository complete; unhealthy until a pass has left every model the
/// source lists with a version to serve. After that a failing pass (a flaky bucket, or one version that can never be
/// synced) reports Degraded (still HTTP 200 at <c>/ready</c>): the versions already published keep serving, so it should
/// alert (metrics) rather than take the pod out of its Service.
/// </summary>
public sealed class LastSyncHealthCheck(SyncState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var current = state.Current;
        var data = new Dictionary<string, object>
        {
            ["consecutive_failures"] = current.ConsecutiveFailures,
        };
        if (current.LastSuccess is { } success)
        {
            data["last_success"] = success.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        }

        var problems = current.LastReport is { Succeeded: false } report ? string.Join("; ", report.Problems.Take(5)) : null;
        var result = current switch
        {
            { LastReport: null } => HealthCheckResult.Unhealthy("no sync pass has finished yet", data: data),
            { LastReport.Succeeded: true } => HealthCheckResult.Healthy("the last sync pass left the repository complete", data),
            { LastServiceable: null } => HealthCheckResult.Unhealthy($"no sync pass has left every model with a version yet: {problems}", data: data),
            _ => HealthCheckResult.Degraded($"the last sync pass found problems ({current.ConsecutiveFailures} in a row): {problems}", data: data),
        };
        return Task.FromResult(result);
    }
}
