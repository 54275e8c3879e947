using Microsoft.Extensions.Diagnostics.HealthChecks;
using ServingStack.Inference.Repository;

namespace ServingStack.Inference.Health;

/// <summary>Ready only when every configured model has an AVAILABLE version, so no pod takes traffic it would 404.</summary>
public sealed class ModelsReadyHealthCheck(ModelManager models) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (models.IsDraining)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("draining: the server is shutting down and finishing the requests it has"));
        }

        if (models.AllModelsAvailable)
        {
            return Task.FromResult(HealthCheckResult.Healthy($"{models.Models.Count} model(s) available"));
        }

        var waiting = new List<string>();
        foreach (var model in models.Models)
        {
            if (!model.HasAvailableVersion && !model.Unloaded)
            {
                waiting.Add(model.Name);
            }
        }

        return Task.FromResult(HealthCheckResult.Unhealthy($"no AVAILABLE version yet for: {string.Join(", ", waiting)}"));
    }
}
