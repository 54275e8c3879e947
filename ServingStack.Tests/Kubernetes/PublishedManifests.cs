using k8s;
using k8s.Models;

namespace ServingStack.Tests.Kubernetes;

/// <summary>One publish of the AppHost's graph into a temporary folder, parsed strictly, shared by the Kubernetes tests.</summary>
public sealed class PublishedManifests : IAsyncLifetime
{
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"servingstack-k8s-{Guid.NewGuid():N}");

    public SortedDictionary<string, string> Files { get; private set; } = [];

    /// <summary>Each YAML file's objects, as KubernetesClient's models (and ours for CRDs), in file order.</summary>
    public SortedDictionary<string, List<object>> Objects { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        await KubernetesPublish.RunAsync(Folder);
        Files = KubernetesPublish.ReadFolder(Folder);
        foreach (var (path, text) in Files)
        {
            // Strict: an unknown or duplicate field throws, so a typo in a builder cannot hide behind a lenient parse.
            Objects[path] = KubernetesYaml.LoadAllFromString(text, KubernetesPublish.CustomTypes, strict: true);
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Objects of the default kustomization (not the optional edge folder).</summary>
    public IEnumerable<T> All<T>() => Objects.Where(f => !f.Key.Contains('/', StringComparison.Ordinal)).SelectMany(f => f.Value).OfType<T>();

    public T Single<T>(string name) where T : IKubernetesObject<V1ObjectMeta> => Assert.Single(All<T>(), o => o.Metadata.Name == name);

    public IEnumerable<T> InFolder<T>(string folder) => Objects.Where(f => f.Key.StartsWith(folder + "/", StringComparison.Ordinal)).SelectMany(f => f.Value).OfType<T>();
}
