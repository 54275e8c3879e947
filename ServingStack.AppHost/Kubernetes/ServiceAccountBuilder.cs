using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// One identity per role. No workload calls the Kubernetes API, so none mounts a token. The inference account is also
/// what cloud workload identity binds to (an IRSA or Workload Identity annotation on it grants the sync its bucket);
/// the release account is for the pipeline that moves canary weights (see <see cref="RoleBuilder"/>).
/// </summary>
internal static class ServiceAccountBuilder
{
    public static IEnumerable<V1ServiceAccount> Create(PublishedGraph graph)
    {
        yield return Create(PublishedGraph.InferenceServiceAccount, ServingLabels.InferenceComponent, graph);
        if (graph.Gateway is not null)
        {
            yield return Create(PublishedGraph.GatewayServiceAccount, ServingLabels.GatewayComponent, graph);
            yield return Create(PublishedGraph.ReleaseServiceAccount, "release", graph);
        }
    }

    private static V1ServiceAccount Create(string name, string component, PublishedGraph graph) => new()
    {
        ApiVersion = "v1",
        Kind = "ServiceAccount",
        Metadata = ObjectMetadata.Create(name, graph.Namespace, ServingLabels.ForApplication(component, graph.Settings)),
        AutomountServiceAccountToken = false,
    };
}
