namespace ServingStack.AppHost.Kubernetes;

/// <summary>Everything the builders read: the evaluated workloads and the publish settings.</summary>
internal sealed record PublishedGraph(KubernetesPublishSettings Settings, IReadOnlyList<InferenceWorkload> Inference, GatewayWorkload? Gateway)
{
    public const string InferenceServiceAccount = "servingstack-inference";
    public const string GatewayServiceAccount = "servingstack-gateway";
    public const string ReleaseServiceAccount = "servingstack-release";

    public string Namespace => Settings.Namespace;

    /// <summary><c>{registry}/servingstack-inference:{tag}</c> for ServingStack.Inference.csproj.</summary>
    public string ImageFor(ProjectResource project)
    {
        var name = Path.GetFileNameWithoutExtension(project.GetProjectMetadata().ProjectPath)
            .Replace('.', '-')
            .ToLowerInvariant();
        return $"{Settings.ImageRegistry.TrimEnd('/')}/{name}:{Settings.ImageTag}";
    }
}
