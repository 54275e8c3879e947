using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// At most one pod of a Deployment evicted at a time (node drains, cluster upgrades). maxUnavailable rather than
/// minAvailable: a one-replica canary with minAvailable 1 would block every drain of its node.
/// </summary>
internal static class PodDisruptionBudgetBuilder
{
    public static V1PodDisruptionBudget Create(string deployment, string component, PublishedGraph graph) => new()
    {
        ApiVersion = "policy/v1",
        Kind = "PodDisruptionBudget",
        Metadata = ObjectMetadata.Create(deployment, graph.Namespace, ServingLabels.For(deployment, component, graph.Settings)),
        Spec = new V1PodDisruptionBudgetSpec
        {
            MaxUnavailable = 1,
            Selector = new V1LabelSelector { MatchLabels = ServingLabels.Selector(deployment) },
        },
    };
}
