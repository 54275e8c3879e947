using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ServingStack.Inference.Repository;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Repository;

public sealed class RepositoryApiTests : IDisposable
{
    private const string AdminKey = "test-admin-key-0123456789";
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private string Config() => _repo.WriteConfig("models.json", """
        { "model_config_list": [ { "name": "mnist", "base_path": "mnist" }, { "name": "other", "base_path": "other" } ] }
        """);

    private static async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(InferenceServer server, string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}") };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        var response = await server.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    [Fact]
    public async Task Repository_API_is_off_without_a_configured_key()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("other", 1, seed: 2);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config()}");

        var (status, body, _) = await PostAsync(server, "/v2/repository/index", "anything");

        Assert.Equal(403, status);
        Assert.Contains("Serving:AdminApiKey", body!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Repository_API_refuses_callers_without_the_admin_key()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("other", 1, seed: 2);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config()}", $"--Serving:AdminApiKey={AdminKey}");

        foreach (var path in new[] { "/v2/repository/index", "/v2/repository/models/mnist/unload", "/v2/repository/models/mnist/load" })
        {
            var (status, body, response) = await PostAsync(server, path, null);
            Assert.Equal(401, status);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("admin key", body!["error"]!.GetValue<string>());

            (status, body, _) = await PostAsync(server, path, "wrong-key-0123456789");
            Assert.Equal(401, status);
            Assert.Contains("not valid", body!["error"]!.GetValue<string>());
        }

        // Nothing was unloaded by the refused calls.
        Assert.All(server.Models.Models, m => Assert.True(m.HasAvailableVersion));
    }

    [Fact]
    public async Task Unload_and_load_change_what_is_served_and_the_index_shows_it()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("other", 1, seed: 2);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config()}", $"--Serving:AdminApiKey={AdminKey}");
        var row = new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(1)) };

        var (status, _, _) = await PostAsync(server, "/v2/repository/models/mnist/unload", AdminKey);
        Assert.Equal(200, status);
        await Eventually.TrueAsync(() => server.Models.Models[0].Versions.All(v => v.State == ModelVersionState.End), "version 1 to unload");
        var (predictStatus, predictBody, _) = await Json.PostAsync(server.Client, "/v1/models/mnist:predict", row);
        Assert.Equal(404, predictStatus);
        Assert.Contains("unloaded", predictBody!["error"]!.GetValue<string>());
        // A model unloaded on purpose does not make the server unready.
        using (var ready = await server.Client.GetAsync("/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        var (_, index, _) = await PostAsync(server, "/v2/repository/index", AdminKey);
        var entries = index!.AsArray();
        Assert.Contains(entries, e => e!["name"]!.GetValue<string>() == "mnist" && e["state"]!.GetValue<string>() == "UNAVAILABLE");
        Assert.Contains(entries, e => e!["name"]!.GetValue<string>() == "other" && e["state"]!.GetValue<string>() == "READY" && e["version"]!.GetValue<string>() == "1");

        // A new version published while unloaded is what load brings up.
        _repo.AddMlp("mnist", 2, seed: 3);
        (status, _, _) = await PostAsync(server, "/v2/repository/models/mnist/load", AdminKey);
        Assert.Equal(200, status);
        Assert.Equal(ModelVersionState.Available, server.Models.Models[0].Versions.Single(v => v.Version == 2).State);
        (predictStatus, _, _) = await Json.PostAsync(server.Client, "/v1/models/mnist:predict", row);
        Assert.Equal(200, predictStatus);
    }

    [Fact]
    public async Task Load_reports_why_a_model_cannot_load_and_unknown_models_are_404()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("other", 1, seed: 2);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={Config()}", $"--Serving:AdminApiKey={AdminKey}", "--model_control_mode=explicit");

        // Explicit control: a new folder is not picked up until load is asked for.
        _repo.AddVersion("other", 2, ModelFactory.CreateCorrupt());
        Assert.Equal([1L], server.Models.Models[1].Versions.Select(v => v.Version));
        var (status, body, _) = await PostAsync(server, "/v2/repository/models/other/load", AdminKey);
        Assert.Equal(400, status);
        Assert.Contains("version 2", body!["error"]!.GetValue<string>());
        Assert.Contains("ONNX Runtime could not load", body["error"]!.GetValue<string>());
        // The failed version took nothing down: version 1 still serves.
        Assert.Equal(ModelVersionState.Available, server.Models.Models[1].Versions.Single(v => v.Version == 1).State);

        (status, body, _) = await PostAsync(server, "/v2/repository/models/nope/load", AdminKey);
        Assert.Equal(404, status);
        Assert.Contains("'nope'", body!["error"]!.GetValue<string>());
    }
}
