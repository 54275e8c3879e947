using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>An inference service and the sync that fills its pods' model store, each evaluated in publish mode.</summary>
internal sealed record InferenceWorkload(InferenceServiceResource Resource, EvaluatedResource Server, ModelSyncResource Sync, EvaluatedResource SyncProcess)
{
    public string Name => Resource.Name;

    public string ConfigMapName => $"{Resource.Name}-config";
}
