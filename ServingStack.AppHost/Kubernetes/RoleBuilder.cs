using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The one API permission this application needs: a release pipeline changes the split by editing the gateway's
/// ConfigMap (the gateway reloads it), and may do nothing else, not even read other ConfigMaps or any Secret.
/// </summary>
internal static class RoleBuilder
{
    public const string ReleaseRole = "servingstack-release";

    public static V1Role? Release(PublishedGraph graph)
    {
        if (graph.Gateway is not { } gateway)
        {
            return null;
        }

        return new V1Role
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "Role",
            Metadata = ObjectMetadata.Create(ReleaseRole, graph.Namespace, ServingLabels.ForApplication("release", graph.Settings)),
            Rules =
            [
                new V1PolicyRule
                {
                    ApiGroups = [""],
                    Resources = ["configmaps"],
                    ResourceNames = [gateway.ConfigMapName],
                    Verbs = ["get", "patch", "update"],
                },
            ],
        };
    }
}
