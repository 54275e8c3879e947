using ServingStack.AppHost.Kubernetes;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Kubernetes;

/// <summary>The same graph gives the same bytes, and the committed deploy/k8s is what the graph gives today.</summary>
[Collection(KubernetesManifestsCollection.Name)]
public sealed class PublishDeterminismTests(PublishedManifests published)
{
    [Fact]
    public async Task Publishing_twice_gives_identical_bytes()
    {
        var again = Path.Combine(Path.GetTempPath(), $"servingstack-k8s-{Guid.NewGuid():N}");
        try
        {
            await KubernetesPublish.RunAsync(again);
            var second = KubernetesPublish.ReadFolder(again);
            Assert.Equal(published.Files.Keys, second.Keys);
            foreach (var (path, text) in published.Files)
            {
                Assert.True(text == second[path], $"{path} differs between two publishes of the same graph.");
            }
        }
        finally
        {
            Directory.Delete(again, recursive: true);
        }
    }

    [Fact]
    public void Committed_deploy_k8s_matches_a_fresh_publish()
    {
        var committedFolder = Path.Combine(BuiltProject.RepositoryRoot(), "deploy", "k8s");
        // The output path resolves from the AppHost's folder, hence ../deploy/k8s when run from the repository root.
        var stale = $"deploy/k8s is stale; regenerate it from the repository root with: {KubernetesPublisher.RegenerateCommand}";
        Assert.True(Directory.Exists(committedFolder), stale);
        var committed = KubernetesPublish.ReadFolder(committedFolder);
        Assert.True(committed.Keys.SequenceEqual(published.Files.Keys), $"{stale}\ncommitted: {string.Join(", ", committed.Keys)}\nfresh: {string.Join(", ", published.Files.Keys)}");
        foreach (var (path, text) in published.Files)
        {
            Assert.True(committed[path].ReplaceLineEndings("\n") == text, $"{path}: {stale}");
        }
    }

    [Fact]
    public async Task Writing_replaces_stale_generated_files_and_leaves_other_files_alone()
    {
        var folder = Directory.CreateTempSubdirectory("servingstack-k8s-write-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, "old"));
            await File.WriteAllTextAsync(Path.Combine(folder, "old", "removed-service.yaml"), KubernetesPublisher.Header + "\nkind: Deployment\n");
            await File.WriteAllTextAsync(Path.Combine(folder, "my-patch.yaml"), "# mine\nkind: ConfigMap\n");
            await KubernetesPublisher.WriteAsync(folder, [new KubernetesManifestFile("a.yaml", KubernetesPublisher.Header + "\n"), new KubernetesManifestFile("sub/b.yaml", KubernetesPublisher.Header + "\n")], CancellationToken.None);

            Assert.False(File.Exists(Path.Combine(folder, "old", "removed-service.yaml")));
            Assert.True(File.Exists(Path.Combine(folder, "my-patch.yaml")));
            Assert.Equal(KubernetesPublisher.Header + "\n", await File.ReadAllTextAsync(Path.Combine(folder, "sub", "b.yaml")));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
