using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>Grants the release Role to the release ServiceAccount, in this namespace only.</summary>
internal static class RoleBindingBuilder
{
    public static V1RoleBinding? Release(PublishedGraph graph)
    {
        if (graph.Gateway is null)
        {
            return null;
        }

        return new V1RoleBinding
        {
            ApiVersion = "rbac.authorization.k8s.io/v1",
            Kind = "RoleBinding",
            Metadata = ObjectMetadata.Create(RoleBuilder.ReleaseRole, graph.Namespace, ServingLabels.ForApplication("release", graph.Settings)),
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = RoleBuilder.ReleaseRole },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = PublishedGraph.ReleaseServiceAccount, NamespaceProperty = graph.Namespace }],
        };
    }
}
