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

        // The sync runs inside the servers' pods, so it has no resource of its own; the Kubernetes publisher's settings
        // are not parameters (a tool deploying the manifest would ask for values nothing uses, or invent them).
        var names = resources.Select(r => r.Key).ToList();
        Assert.Equal(["modelsync-source", "inference", "inference-canary", "gateway"], names);
    }

    [Fact]
    public async Task Aspire_manifest_values_need_no_configuration_files_and_hold_no_literal_braces()
    {
        var resources = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(BuiltProject.RepositoryRoot(), "aspire-manifest.json")))!["resources"]!.AsObject();
        foreach (var (name, resource) in resources.Where(r => r.Value!["type"]!.GetValue<string>().StartsWith("project.", StringComparison.Ordinal)))
        {
            var values = (resource!["env"]?.AsObject().Select(e => (e.Key, Value: e.Value!.GetValue<string>())) ?? [])
                .Concat(resource["args"]?.AsArray().Select(a => ("arg", Value: a!.GetValue<string>())) ?? []);
            foreach (var (key, value) in values)
            {
                // Braces only as whole placeholders ({resource.bindings.endpoint.property}, {parameter.value}).
                var bare = System.Text.RegularExpressions.Regex.Replace(value, @"\{[A-Za-z0-9-]+\.(bindings\.[A-Za-z0-9-]+\.[A-Za-z]+|value)\}", "");
                Assert.False(bare.Contains('{', StringComparison.Ordinal) || bare.Contains('}', StringComparison.Ordinal), $"{name}: {key}={value} holds a literal brace");
                Assert.DoesNotContain("/etc/servingstack", value, StringComparison.Ordinal);
                // A URL placeholder is rendered without a scheme by some tools: every URL is spelled out.
                Assert.DoesNotContain(".url}", value, StringComparison.Ordinal);
            }
        }

        var gateway = resources["gateway"]!["env"]!.AsObject();
        Assert.Equal("http://{inference.bindings.rest.host}:{inference.bindings.rest.port}", gateway["services__inference__rest__0"]!.GetValue<string>());
        Assert.DoesNotContain(gateway, e => e.Key.StartsWith("ReverseProxy__Routes__", StringComparison.Ordinal));
        var inference = resources["inference"]!["env"]!.AsObject();
        Assert.Equal("mnist", inference["Serving__ModelConfigList__0__name"]!.GetValue<string>());
        Assert.Equal("{modelsync-source.value}", inference["ModelSync__Source"]!.GetValue<string>());
        Assert.Equal("/tmp/models", inference["ModelSync__Target"]!.GetValue<string>());
    }
}
