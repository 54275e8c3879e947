namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The recommended <c>app.kubernetes.io/*</c> labels. Selectors use only name and part-of: those never change for a
/// workload, whereas version changes with every image tag and a Deployment's selector is immutable.
/// </summary>
internal static class ServingLabels
{
    public const string Name = "app.kubernetes.io/name";
    public const string Component = "app.kubernetes.io/component";
    public const string PartOf = "app.kubernetes.io/part-of";
    public const string Version = "app.kubernetes.io/version";
    public const string ManagedBy = "app.kubernetes.io/managed-by";

    public const string Application = "servingstack";
    public const string InferenceComponent = "inference-server";
    public const string GatewayComponent = "gateway";

    /// <summary>Every object's labels.</summary>
    public static SortedDictionary<string, string> For(string name, string component, KubernetesPublishSettings settings) => new(StringComparer.Ordinal)
    {
        [Name] = name,
        [Component] = component,
        [PartOf] = Application,
        [Version] = settings.ImageTag,
        [ManagedBy] = "servingstack-apphost",
    };

    /// <summary>Labels of objects that belong to the whole application rather than one workload.</summary>
    public static SortedDictionary<string, string> ForApplication(string component, KubernetesPublishSettings settings) =>
        For(Application, component, settings);

    /// <summary>What a Deployment, its Service and its PDB select pods by.</summary>
    public static SortedDictionary<string, string> Selector(string name) => new(StringComparer.Ordinal)
    {
        [Name] = name,
        [PartOf] = Application,
    };

    /// <summary>Every pod of a component (both inference Deployments, for instance).</summary>
    public static SortedDictionary<string, string> ComponentSelector(string component) => new(StringComparer.Ordinal)
    {
        [Component] = component,
        [PartOf] = Application,
    };
}
