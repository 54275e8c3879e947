using k8s.Models;

namespace ServingStack.AppHost.Kubernetes;

internal static class ObjectMetadata
{
    public static V1ObjectMeta Create(string name, string @namespace, IDictionary<string, string> labels, IDictionary<string, string>? annotations = null) => new()
    {
        Name = name,
        NamespaceProperty = @namespace,
        Labels = labels,
        Annotations = annotations,
    };
}
