using ServingStack.Inference.Batching;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Repository;

public sealed class ModelConfigFileReaderTests : IDisposable
{
    private readonly TempModelRepository _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Read_maps_every_field_of_a_TF_Serving_text_format_file()
    {
        var path = _folder.WriteConfig("models.config", """
            # Written the way tensorflow_model_server expects it.
            model_config_list {
              config {
                name: 'mnist'   # the digits model
                base_path: '/models/mnist'
                model_platform: 'tensorflow'
                model_version_policy { latest { num_versions: 2 } }
                version_labels { key: 'stable' value: 1 }
                version_labels { key: 'canary' value: 2 }
              }
              # config { name: 'ghost' base_path: 'ghost' }
              config { name: "resnet" base_path: "resnet" model_version_policy { specific { versions: 1 versions: 3 } } }
            }
            """);

        var config = Read(path, out _);

        Assert.Empty(config.ReadErrors);
        Assert.Equal(path, config.Source);
        Assert.Equal(["mnist", "resnet"], config.Models.Select(m => m.Name));

        var mnist = config.Models[0];
        Assert.Equal(Path.GetFullPath("/models/mnist"), mnist.BasePath);
        Assert.Equal("tensorflow", mnist.Platform);
        Assert.Equal(ModelVersionPolicyKind.Latest, mnist.VersionPolicy.Kind);
        Assert.Equal(2, mnist.VersionPolicy.NumVersions);
        Assert.Equal(new Dictionary<string, long> { ["stable"] = 1, ["canary"] = 2 }, mnist.VersionLabels);

        var resnet = config.Models[1];
        Assert.Equal(Path.Combine(_folder.Root, "resnet"), resnet.BasePath);
        Assert.Equal("onnx", resnet.Platform);
        Assert.Equal(ModelVersionPolicyKind.Specific, resnet.VersionPolicy.Kind);
        Assert.Equal([1L, 3L], resnet.VersionPolicy.Versions);
        Assert.Empty(resnet.VersionLabels);
    }

    [Fact]
    public void Read_maps_every_field_of_a_JSON_file_and_fills_execution_from_the_defaults()
    {
        var path = _folder.WriteConfig("models.json", """
            {
              // JSON comments and trailing commas are allowed.
              "model_config_list": { "config": [
                {
                  "name": "gpu_model",
                  "base_path": "nested/gpu",
                  "platform": "onnxruntime_onnx",
                  "model_version_policy": { "all": {} },
                  "version_labels": { "stable": 4, "canary": "5" },
                  "execution": { "provider": "cuda", "device_id": 1, "intra_op_threads": 4, "inter_op_threads": 2, "graph_optimization_level": "basic" },
                },
                { "name": "plain", "base_path": "/srv/plain", "model_version_policy": { "latest": {} } },
              ] },
              "logging_config": {},
            }
            """);
        var defaults = new ExecutionSettings { Provider = "cpu", DeviceId = 0, IntraOpThreads = 8, InterOpThreads = 1, GraphOptimizationLevel = "extended" };

        var config = Read(path, defaults);
        defaults.IntraOpThreads = 99; // a model's settings are its own copy

        Assert.Empty(config.ReadErrors);
        Assert.Equal(2, config.Models.Count);

        var gpu = config.Models[0];
        Assert.Equal("gpu_model", gpu.Name);
        Assert.Equal(Path.Combine(_folder.Root, "nested", "gpu"), gpu.BasePath);
        Assert.Equal("onnxruntime_onnx", gpu.Platform);
        Assert.Equal(ModelVersionPolicyKind.All, gpu.VersionPolicy.Kind);
        Assert.Equal(new Dictionary<string, long> { ["stable"] = 4, ["canary"] = 5 }, gpu.VersionLabels);
        Assert.Equal("cuda", gpu.Execution.Provider);
        Assert.Equal(1, gpu.Execution.DeviceId);
        Assert.Equal(4, gpu.Execution.IntraOpThreads);
        Assert.Equal(2, gpu.Execution.InterOpThreads);
        Assert.Equal("basic", gpu.Execution.GraphOptimizationLevel);

        var plain = config.Models[1];
        Assert.Equal("plain", plain.Name);
        Assert.Equal(Path.GetFullPath("/srv/plain"), plain.BasePath);
        Assert.Equal("onnx", plain.Platform);
        Assert.Equal(ModelVersionPolicyKind.Latest, plain.VersionPolicy.Kind);
        Assert.Equal(1, plain.VersionPolicy.NumVersions);
        Assert.Empty(plain.VersionLabels);
        Assert.Equal("cpu", plain.Execution.Provider);
        Assert.Equal(0, plain.Execution.DeviceId);
        Assert.Equal(8, plain.Execution.IntraOpThreads);
        Assert.Equal(1, plain.Execution.InterOpThreads);
        Assert.Equal("extended", plain.Execution.GraphOptimizationLevel);
    }

    [Fact]
    public void Read_accepts_model_config_list_as_a_plain_JSON_array()
    {
        var path = _folder.WriteConfig("list.json", """
            { "model_config_list": [ { "name": "a", "base_path": "a", "model_version_policy": { "specific": { "versions": 7 } } } ] }
            """);

        var config = Read(path, out _);

        Assert.Empty(config.ReadErrors);
        var model = Assert.Single(config.Models);
        Assert.Equal("a", model.Name);
        Assert.Equal(Path.Combine(_folder.Root, "a"), model.BasePath);
        Assert.Equal(ModelVersionPolicyKind.Specific, model.VersionPolicy.Kind);
        Assert.Equal([7L], model.VersionPolicy.Versions);
    }

    [Fact]
    public void Read_reports_a_text_format_syntax_error_with_its_line_number()
    {
        var path = _folder.WriteConfig("models.config", """
            model_config_list {
              config {
                name: 'mnist'
                base_path '/models/mnist'
              }
            }
            """);

        var config = Read(path, out _);

        var error = Assert.Single(config.ReadErrors);
        Assert.Contains(path, error, StringComparison.Ordinal);
        Assert.Contains("line 4", error, StringComparison.Ordinal);
        Assert.Contains("base_path", error, StringComparison.Ordinal);
        Assert.Empty(config.Models);
    }

    [Theory]
    [InlineData("model_config_list {\n  config {\n    name: 'mnist\n  }\n}\n", "line 3", "unterminated string")]
    [InlineData("model_config_list {\n  config {\n    name: 'mnist'\n", "line 4", "missing '}'")]
    [InlineData("# comment\n\nmodel_config_list {\n  config { name: 'a' base_path: 'a' name: 'b' }\n}\n", "line 4", "'name' is set twice")]
    public void Read_reports_other_text_format_syntax_errors_with_their_line_numbers(string text, string line, string problem)
    {
        var path = _folder.WriteConfig("models.config", text);

        var config = Read(path, out _);

        var error = Assert.Single(config.ReadErrors);
        Assert.Contains(line + ":", error, StringComparison.Ordinal);
        Assert.Contains(problem, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_reports_malformed_JSON()
    {
        var path = _folder.WriteConfig("models.json", """{ "model_config_list": [ { "name": "a", """);

        var config = Read(path, out _);

        var error = Assert.Single(config.ReadErrors);
        Assert.Contains(path, error, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_reports_every_unknown_field_with_where_it_is()
    {
        var path = _folder.WriteConfig("models.config", """
            model_config_list {
              config {
                name: 'a'
                base_path: 'a'
                base_pth: 'typo'
                execution { provider: 'cpu' threads: 4 }
              }
            }
            model_config_lists { }
            """);

        var config = Read(path, out _);

        Assert.Equal(3, config.ReadErrors.Count);
        Assert.Contains(config.ReadErrors, e => e.Contains("'model_config_lists'", StringComparison.Ordinal) && e.Contains("unknown field", StringComparison.Ordinal));
        Assert.Contains(config.ReadErrors, e => e.Contains("model_config_list[0].base_pth", StringComparison.Ordinal) && e.Contains("unknown field", StringComparison.Ordinal));
        Assert.Contains(config.ReadErrors, e => e.Contains("model_config_list[0].execution.threads", StringComparison.Ordinal) && e.Contains("unknown field", StringComparison.Ordinal));
        // The model itself is still read, so validation can report its own problems alongside.
        Assert.Equal("a", Assert.Single(config.Models).Name);
    }

    [Fact]
    public void Read_reports_missing_required_fields_and_values_of_the_wrong_kind()
    {
        var path = _folder.WriteConfig("models.json", """
            { "model_config_list": [
                { "base_path": "x" },
                { "name": "y" },
                { "name": "z", "base_path": "z", "model_version_policy": { "latest": { "num_versions": "two" } }, "version_labels": { "stable": "one" } },
                { "name": "w", "base_path": "w", "model_version_policy": { "newest": {} } } ] }
            """);

        var config = Read(path, out _);

        var errors = config.ReadErrors;
        Assert.Contains(errors, e => e.StartsWith("model_config_list[0]: 'name' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("model_config_list[1]: 'base_path' is required", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("model_config_list[2].model_version_policy.latest.num_versions: expected an integer", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("model_config_list[2].version_labels.stable: expected an integer", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("model_config_list[3].model_version_policy: unknown policy 'newest'", StringComparison.Ordinal));
        Assert.Equal(5, errors.Count);
        Assert.Equal(["z", "w"], config.Models.Select(m => m.Name));
    }

    [Fact]
    public void Read_reports_a_file_that_cannot_be_read()
    {
        var path = Path.Combine(_folder.Root, "missing.config");

        var config = Read(path, out _);

        var error = Assert.Single(config.ReadErrors);
        Assert.Contains("cannot read model config file", error, StringComparison.Ordinal);
        Assert.Contains(path, error, StringComparison.Ordinal);
        Assert.Empty(config.Models);
    }

    [Fact]
    public void Validator_accepts_a_correct_config()
    {
        var config = new ModelServerConfig { Source = "models.config" };
        config.Models.Add(Model("mnist", new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Latest, NumVersions = 2 }, ("stable", 1), ("canary", 2)));
        config.Models.Add(Model("resnet.v2-b", new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Specific, Versions = [1, 3] }, ("stable", 3)));

        var result = new ModelServerConfigValidator().Validate(null, config);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validator_reports_every_error_at_once()
    {
        var config = new ModelServerConfig { Source = "models.config" };
        config.ReadErrors.Add("model_config_list[4].colour: unknown field");
        config.Models.Add(Model("mnist", new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Latest, NumVersions = 0 }, ("bad-label", 1)));
        config.Models.Add(Model("mnist", ModelVersionPolicy.Default, ("zero", 0)));
        config.Models.Add(Model("bad name!", new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Specific, Versions = [] }));
        config.Models.Add(Model("pinned", new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Specific, Versions = [2, -1] }, ("stable", 5)));
        config.Models.Add(new ModelConfig
        {
            Name = "gpu",
            BasePath = "/models/gpu",
            Platform = "pytorch",
            Execution = new ExecutionSettings { Provider = "tpu", DeviceId = -1, IntraOpThreads = -2, GraphOptimizationLevel = "max" },
        });

        var result = new ModelServerConfigValidator().Validate(null, config);

        Assert.True(result.Failed);
        string[] expected =
        [
            "models.config: model_config_list[4].colour: unknown field",
            "model 'mnist': model_version_policy latest.num_versions must be >= 1, not 0.",
            "model 'mnist': label 'bad-label' must match [a-zA-Z0-9_]+.",
            "model 'mnist': the name is configured twice.",
            "model 'mnist': label 'zero' points at version 0; versions are positive integers.",
            "model 'bad name!': the name must match [A-Za-z0-9_.-]+.",
            "model 'bad name!': model_version_policy specific needs at least one version.",
            "model 'pinned': version -1 in model_version_policy specific must be a positive integer.",
            "model 'pinned': label 'stable' points at version 5, which model_version_policy does not serve.",
            "model 'gpu': platform 'pytorch' is not served; use 'onnx'.",
            "model 'gpu' execution: provider must be 'cpu' or 'cuda', not 'tpu'.",
            "model 'gpu' execution: device_id must be >= 0, not -1.",
            "model 'gpu' execution: thread counts must be >= 0 (0 lets ONNX Runtime choose).",
            "model 'gpu' execution: graph_optimization_level must be disabled, basic, extended or all, not 'max'.",
        ];
        var failures = result.Failures!.ToList();
        foreach (var message in expected)
        {
            Assert.True(failures.Contains(message), $"missing \"{message}\" in:\n{string.Join("\n", failures)}");
        }

        Assert.Equal(expected.Length, failures.Count);
    }

    [Fact]
    public void Validator_reports_an_empty_config()
    {
        var result = new ModelServerConfigValidator().Validate(null, new ModelServerConfig { Source = "empty.json" });

        Assert.True(result.Failed);
        Assert.Equal(["empty.json: no models are configured."], result.Failures!);
    }

    [Fact]
    public void Validator_reports_every_error_in_a_config_file_read_from_disk()
    {
        var path = _folder.WriteConfig("models.config", """
            model_config_list {
              config { name: 'mnist' base_path: 'a' model_version_policy { latest { num_versions: 0 } } }
              config { name: 'mnist' base_path: 'b' version_labels { key: 'not ok' value: 1 } }
              config { name: 'gpu' base_path: 'c' execution { provider: 'npu' } }
            }
            """);
        var config = new ModelServerConfig();
        ModelConfigFileReader.Read(path, new ExecutionSettings(), new BatchingOptions(), config);

        var result = new ModelServerConfigValidator().Validate(null, config);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Contains("model 'mnist': model_version_policy latest.num_versions must be >= 1, not 0.", failures);
        Assert.Contains("model 'mnist': the name is configured twice.", failures);
        Assert.Contains("model 'mnist': label 'not ok' must match [a-zA-Z0-9_]+.", failures);
        Assert.Contains("model 'gpu' execution: provider must be 'cpu' or 'cuda', not 'npu'.", failures);
        Assert.Equal(4, failures.Count);
    }

    private static ModelServerConfig Read(string path, out ExecutionSettings defaults)
    {
        defaults = new ExecutionSettings();
        return Read(path, defaults);
    }

    private static ModelServerConfig Read(string path, ExecutionSettings defaults)
    {
        var config = new ModelServerConfig();
        ModelConfigFileReader.Read(path, defaults, new BatchingOptions(), config);
        return config;
    }

    private static ModelConfig Model(string name, ModelVersionPolicy policy, params (string Label, long Version)[] labels) => new()
    {
        Name = name,
        BasePath = "/models/" + name,
        VersionPolicy = policy,
        VersionLabels = labels.ToDictionary(l => l.Label, l => l.Version),
    };
}
