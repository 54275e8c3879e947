using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Repository;

public sealed class ServerStartupTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Server_with_an_invalid_config_file_fails_to_start_listing_every_error()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        var config = _repo.WriteConfig("models.config", """
            model_config_list {
              config { name: 'mnist' base_path: 'mnist' model_version_policy { latest { num_versions: 0 } } }
              config { name: 'mnist' base_path: 'mnist' version_labels { key: 'bad-label' value: 1 } }
              config { name: 'gpu' base_path: 'mnist' execution { provider: 'tpu' } }
              config { name: 'typo' base_pth: 'mnist' }
            }
            """);

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => InferenceServer.StartAsync($"--model_config_file={config}"));

        string[] expected =
        [
            "model 'mnist': model_version_policy latest.num_versions must be >= 1, not 0.",
            "model 'mnist': the name is configured twice.",
            "model 'mnist': label 'bad-label' must match [a-zA-Z0-9_]+.",
            "model 'gpu' execution: provider must be 'cpu' or 'cuda', not 'tpu'.",
            $"{config}: model_config_list[3].base_pth: unknown field",
            $"{config}: model_config_list[3]: 'base_path' is required",
        ];
        foreach (var message in expected)
        {
            Assert.True(exception.Message.Contains(message, StringComparison.Ordinal), $"missing \"{message}\" in: {exception.Message}");
            Assert.Contains(exception.Failures, f => f.Contains(message, StringComparison.Ordinal));
        }

        Assert.Equal(expected.Length, exception.Failures.Count());
    }

    [Fact]
    public async Task Server_with_an_unparsable_config_file_fails_to_start_naming_the_file_and_line()
    {
        var config = _repo.WriteConfig("models.config", "model_config_list {\n  config {\n    name 'mnist'\n  }\n}\n");

        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => InferenceServer.StartAsync($"--model_config_file={config}"));

        Assert.Contains(config, exception.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_without_model_config_file_or_model_base_path_fails_to_start_saying_so()
    {
        var exception = await Assert.ThrowsAnyAsync<Exception>(() => InferenceServer.StartAsync());

        var messages = ValidationFailures(exception);
        Assert.Contains(messages, m => m.Contains("No models to serve", StringComparison.Ordinal) &&
            m.Contains("--model_config_file", StringComparison.Ordinal) && m.Contains("--model_base_path", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Server_with_both_model_config_file_and_model_base_path_fails_to_start_saying_so()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        var config = _repo.WriteConfig("models.json", """{ "model_config_list": [ { "name": "mnist", "base_path": "mnist" } ] }""");

        var exception = await Assert.ThrowsAnyAsync<Exception>(() =>
            InferenceServer.StartAsync($"--model_config_file={config}", $"--model_base_path={_repo.ModelPath("mnist")}"));

        Assert.Contains(ValidationFailures(exception), m => m.Contains("either --model_config_file or --model_base_path, not both", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Server_with_model_name_and_model_base_path_serves_that_model()
    {
        _repo.AddMlp("digits", 1, seed: 42);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=m", $"--model_base_path={_repo.ModelPath("digits")}");

        var (status, body, text) = await Json.GetAsync(server.Client, "/v1/models/m");
        Assert.True(status == 200, text);
        var version = Assert.Single(body!["model_version_status"]!.AsArray());
        Assert.Equal("1", version!["version"]!.GetValue<string>());
        Assert.Equal("AVAILABLE", version["state"]!.GetValue<string>());

        var rows = TestData.MnistRows(2, seed: 9);
        (status, body, text) = await Json.PostAsync(server.Client, "/v1/models/m:predict", new JsonObject { ["instances"] = Json.Matrix(rows) });
        Assert.True(status == 200, text);
        var predictions = body!["predictions"]!.AsArray();
        Assert.Equal(rows.Length, predictions.Count);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), Json.Floats(predictions[r]));
        }

        (status, body, text) = await Json.PostAsync(server.Client, "/v1/models/digits:predict", new JsonObject { ["instances"] = Json.Matrix(rows) });
        TfServingBadInputTests.AssertError(status, body, text, 404, "'digits'", "models: m");
    }

    /// <summary>Every validation failure in <paramref name="exception"/>: one options type fails alone, several in an AggregateException.</summary>
    private static List<string> ValidationFailures(Exception exception)
    {
        var found = new List<OptionsValidationException>();
        if (exception is AggregateException aggregate)
        {
            found.AddRange(aggregate.Flatten().InnerExceptions.OfType<OptionsValidationException>());
        }
        else if (exception is OptionsValidationException single)
        {
            found.Add(single);
        }

        Assert.True(found.Count > 0, $"expected an options validation failure but got {exception}");
        return found.SelectMany(e => e.Failures).ToList();
    }
}
