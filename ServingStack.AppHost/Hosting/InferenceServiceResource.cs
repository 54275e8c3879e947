namespace ServingStack.AppHost.Hosting;

/// <summary>
/// An inference server (ServingStack.Inference) and what the graph says about it: the models it serves, batching, GPU,
/// the sync that fills its repository, compute and autoscaling. The Kubernetes publisher reads these.
/// </summary>
public sealed class InferenceServiceResource(string name) : ProjectResource(name)
{
    private readonly List<ServedModel> _models = [];

    public IReadOnlyList<ServedModel> Models => _models;

    public BatchingSettings? Batching { get; set; }

    /// <summary>GPUs per replica; 0 runs on CPU.</summary>
    public int Gpus { get; set; }

    public ModelSyncResource? ModelSync { get; set; }

    public ComputeResources Compute { get; set; } = new("500m", "512Mi", "2", "2Gi");

    public AutoscalingSettings? Autoscaling { get; set; }

    /// <summary>The local folder for this service's generated config files.</summary>
    public required string LocalConfigFolder { get; init; }

    internal void AddModel(ServedModel model)
    {
        _models.RemoveAll(m => m.Name == model.Name);
        _models.Add(model);
    }
}
