namespace ServingStack.Tests.Kubernetes;

/// <summary>The tests that read one shared publish of the graph.</summary>
[CollectionDefinition(Name)]
public sealed class KubernetesManifestsCollection : ICollectionFixture<PublishedManifests>
{
    public const string Name = "Kubernetes manifests";
}
