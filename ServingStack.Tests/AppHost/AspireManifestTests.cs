using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.AppHost;

/// <summary>aspire-manifest.json at the root is what the AppHost's manifest publisher writes today.</summary>
public sealed class AspireManifestTests
{
    [Fact]
    public async Task Committed_aspire_manifest_matches_a_fresh_publish()
    {
        var root = BuiltProject.RepositoryRoot();
        // Written beside the committed file: project paths in the manifest are relative to its folder.
        var fresh = Path.Combine(root, $"aspire-manifest.check-{Guid.NewGuid():N}.json");
        try
        {
            var output = await AppHostCommand.RunAsync("--publisher", "manifest", "--output-path", fresh);
            Assert.True(File.Exists(fresh), $"The manifest publisher wrote nothing:\n{output}");
            var committed = await File.ReadAllTextAsync(Path.Combine(root, "aspire-manifest.json"));
            var published = await File.ReadAllTextAsync(fresh);
            Assert.True(committed.ReplaceLineEndings("\n") == published.ReplaceLineEndings("\n"),
                "aspire-manifest.json is stale; regenerate it: dotnet run --project ServingStack.AppHost -- --publisher manifest --output-path ../aspire-manifest.json");
        }
        finally
        {
            File.Delete(fresh);
        }
    }

    [Fact]
    public async Task Aspire_manifest_uses_only_standard_resource_types()
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(BuiltProject.RepositoryRoot(), "aspire-manifest.json")))!;
        var resources = manifest["resources"]!.AsObject();
        string[] standard = ["project.v0", "project.v1", "container.v0", "container.v1", "parameter.v0", "value.v0"];
        foreach (var (name, resource) in resources)
        {
            Assert.Contains(resource!["type"]!.GetValue<string>(), standard);
            if (resource["path"] is { } path)
            {
                Assert.True(File.Exists(Path.Combine(BuiltProject.RepositoryRoot(), path.GetValue<string>())), $"{name}: {path} does not exist");
            }
        }

        var names = resources.Select(r => r.Key).ToList();
        Assert.Equal(["modelsync-source", "modelsync", "inference", "inference-canary", "gateway"], names.Take(5));
        // The Kubernetes publisher's parameters (without it, a solution made from the template has none).
        string[] publisher = [];
        //#if (kubernetes)
        publisher = ["image-registry", "image-tag", "ingress-host", "ingress-tls-secret"];
        //#endif
        Assert.Equal(publisher, names.Skip(5));
    }
}
