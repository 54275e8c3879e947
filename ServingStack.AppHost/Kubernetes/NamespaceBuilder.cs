using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// The application's namespace. It enforces the "restricted" Pod Security Standard, which every pod here meets
/// (see <see cref="PodSecurity"/>), so a pod that drifts from it is refused at admission rather than noticed later.
/// </summary>
internal static class NamespaceBuilder
{
    public static V1Namespace Create(PublishedGraph graph)
    {
        var labels = ServingLabels.ForApplication("namespace", graph.Settings);
        labels["pod-security.kubernetes.io/enforce"] = "restricted";
        labels["pod-security.kubernetes.io/enforce-version"] = "latest";
        return new V1Namespace
        {
            ApiVersion = "v1",
            Kind = "Namespace",
            Metadata = new V1ObjectMeta { Name = graph.Namespace, Labels = labels },
        };
    }
}
