using System.Text.Json;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Configuration;

/// <summary>
/// Reads a model config file, JSON or TF Serving's text format, into <see cref="ModelConfig"/>s. Every problem is
/// collected with the path of the field at fault, so a bad file is reported whole. Relative base paths resolve against
/// the file's folder, so a repository and its config can move together.
/// </summary>
public static class ModelConfigFileReader
{
    private static readonly HashSet<string> s_repeatedTextFields = new(StringComparer.Ordinal) { "config", "versions", "version_labels" };

    private static readonly HashSet<string> s_ignoredFields = new(StringComparer.Ordinal) { "logging_config", "model_type" };

    public static void Read(string path, ExecutionSettings defaults, BatchingOptions batchingDefaults, ModelServerConfig target)
    {
        target.Source = path;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            target.ReadErrors.Add($"cannot read model config file '{path}': {ex.Message}");
            return;
        }

        var baseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        try
        {
            var trimmed = text.AsSpan().TrimStart();
            using var document = trimmed.Length > 0 && trimmed[0] is '{' or '['
                ? JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                : JsonDocument.Parse(TextProtoParser.Parse(text, s_repeatedTextFields).ToJsonString());
            Map(document.RootElement, baseDirectory, defaults, batchingDefaults, target);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            target.ReadErrors.Add($"model config file '{path}' is not valid JSON or TF Serving text format: {ex.Message}");
        }
    }

    /// <summary>Maps the <c>ModelServerConfig</c> tree (TF Serving's field names) onto <paramref name="target"/>.</summary>
    public static void Map(JsonElement root, string baseDirectory, ExecutionSettings defaults, BatchingOptions batchingDefaults, ModelServerConfig target)
    {
        var errors = target.ReadErrors;
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add("the root must be an object with 'model_config_list'");
            return;
        }

        foreach (var property in root.EnumerateObject())
        {
            if (property.Name != "model_config_list" && !s_ignoredFields.Contains(property.Name))
            {
                errors.Add($"unknown field '{property.Name}' (expected 'model_config_list')");
            }
        }

        if (!root.TryGetProperty("model_config_list", out var list))
        {
            errors.Add("missing 'model_config_list'");
            return;
        }

        // TF Serving's JSON/text shape is model_config_list { config [...] }; a plain array is accepted too.
        if (list.ValueKind == JsonValueKind.Object)
        {
            if (!list.TryGetProperty("config", out var configs))
            {
                errors.Add("model_config_list: missing 'config'");
                return;
            }

            list = configs;
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            errors.Add("model_config_list: expected a list of model configs");
            return;
        }

        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            var model = MapModel(item, $"model_config_list[{index}]", baseDirectory, defaults, batchingDefaults, errors);
            if (model is not null)
            {
                target.Models.Add(model);
            }

            index++;
        }
    }

    private static ModelConfig? MapModel(JsonElement item, string where, string baseDirectory, ExecutionSettings defaults, BatchingOptions batchingDefaults, List<string> errors)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{where}: expected an object");
            return null;
        }

        string? name = null, basePath = null, platform = null;
        var policy = ModelVersionPolicy.Default;
        var labels = new Dictionary<string, long>(StringComparer.Ordinal);
        var execution = defaults.Clone();
        var batching = batchingDefaults.Clone();
        foreach (var field in item.EnumerateObject())
        {
            var at = $"{where}.{field.Name}";
            switch (field.Name)
            {
                case "name":
                    name = ReadString(field.Value, at, errors);
                    break;
                case "base_path":
                    basePath = ReadString(field.Value, at, errors);
                    break;
                case "platform" or "model_platform":
                    platform = ReadString(field.Value, at, errors);
                    break;
                case "model_version_policy":
                    policy = MapPolicy(field.Value, at, errors);
                    break;
                case "version_labels":
                    MapLabels(field.Value, at, labels, errors);
                    break;
                case "execution":
                    MapExecution(field.Value, at, execution, errors);
                    break;
                case "batching":
                    BatchingOptionsReader.Apply(field.Value, at, batching, errors);
                    break;
                default:
                    if (!s_ignoredFields.Contains(field.Name))
                    {
                        errors.Add($"{at}: unknown field (expected name, base_path, platform, model_version_policy, version_labels, execution, batching)");
                    }

                    break;
            }
        }

        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add($"{where}: 'name' is required");
        }

        if (string.IsNullOrWhiteSpace(basePath))
        {
            errors.Add($"{where}: 'base_path' is required");
        }

        if (name is null || basePath is null)
        {
            return null;
        }

        return new ModelConfig
        {
            Name = name,
            BasePath = Path.GetFullPath(basePath, baseDirectory),
            Platform = platform ?? "onnx",
            VersionPolicy = policy,
            VersionLabels = labels,
            Execution = execution,
            Batching = batching,
        };
    }

    private static ModelVersionPolicy MapPolicy(JsonElement value, string where, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Object || value.GetPropertyCount() != 1)
        {
            errors.Add($"{where}: expected exactly one of 'latest', 'all', 'specific'");
            return ModelVersionPolicy.Default;
        }

        var choice = value.EnumerateObject().First();
        switch (choice.Name)
        {
            case "latest":
                var num = 1;
                if (choice.Value.ValueKind == JsonValueKind.Object && choice.Value.TryGetProperty("num_versions", out var n))
                {
                    num = ReadInt(n, $"{where}.latest.num_versions", errors) ?? 1;
                }

                return new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Latest, NumVersions = num };
            case "all":
                return new ModelVersionPolicy { Kind = ModelVersionPolicyKind.All };
            case "specific":
                var versions = new List<long>();
                if (choice.Value.ValueKind == JsonValueKind.Object && choice.Value.TryGetProperty("versions", out var vs))
                {
                    if (vs.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var v in vs.EnumerateArray())
                        {
                            if (ReadLong(v, $"{where}.specific.versions", errors) is { } version)
                            {
                                versions.Add(version);
                            }
                        }
                    }
                    else if (ReadLong(vs, $"{where}.specific.versions", errors) is { } single)
                    {
                        versions.Add(single);
                    }
                }

                return new ModelVersionPolicy { Kind = ModelVersionPolicyKind.Specific, Versions = versions };
            default:
                errors.Add($"{where}: unknown policy '{choice.Name}' (expected latest, all or specific)");
                return ModelVersionPolicy.Default;
        }
    }

    private static void MapLabels(JsonElement value, string where, Dictionary<string, long> labels, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var label in value.EnumerateObject())
            {
                if (ReadLong(label.Value, $"{where}.{label.Name}", errors) is { } version)
                {
                    labels[label.Name] = version;
                }
            }
        }
        else if (value.ValueKind == JsonValueKind.Array)
        {
            // The text format's map entries: version_labels { key: "stable" value: 1 }.
            foreach (var entry in value.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("key", out var key) &&
                    key.ValueKind == JsonValueKind.String && entry.TryGetProperty("value", out var v))
                {
                    if (ReadLong(v, $"{where}.{key.GetString()}", errors) is { } version)
                    {
                        labels[key.GetString()!] = version;
                    }
                }
                else
                {
                    errors.Add($"{where}: each entry needs a string 'key' and a numeric 'value'");
                }
            }
        }
        else
        {
            errors.Add($"{where}: expected an object of label → version");
        }
    }

    private static void MapExecution(JsonElement value, string where, ExecutionSettings execution, List<string> errors)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{where}: expected an object");
            return;
        }

        foreach (var field in value.EnumerateObject())
        {
            var at = $"{where}.{field.Name}";
            switch (field.Name)
            {
                case "provider":
                    execution.Provider = ReadString(field.Value, at, errors) ?? execution.Provider;
                    break;
                case "device_id":
                    execution.DeviceId = ReadInt(field.Value, at, errors) ?? execution.DeviceId;
                    break;
                case "intra_op_threads":
                    execution.IntraOpThreads = ReadInt(field.Value, at, errors) ?? execution.IntraOpThreads;
                    break;
                case "inter_op_threads":
                    execution.InterOpThreads = ReadInt(field.Value, at, errors) ?? execution.InterOpThreads;
                    break;
                case "allow_spinning":
                    if (field.Value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        execution.AllowSpinning = field.Value.ValueKind == JsonValueKind.True;
                    }
                    else
                    {
                        errors.Add($"{at}: expected true or false");
                    }

                    break;
                case "graph_optimization_level":
                    execution.GraphOptimizationLevel = ReadString(field.Value, at, errors) ?? execution.GraphOptimizationLevel;
                    break;
                default:
                    errors.Add($"{at}: unknown field (expected provider, device_id, intra_op_threads, inter_op_threads, allow_spinning, graph_optimization_level)");
                    break;
            }
        }
    }

    private static string? ReadString(JsonElement value, string where, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString();
        }

        errors.Add($"{where}: expected a string");
        return null;
    }

    private static int? ReadInt(JsonElement value, string where, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i))
        {
            return i;
        }

        // Proto3 JSON accepts int32 as a string too (and configuration keys are always strings).
        if (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out i))
        {
            return i;
        }

        errors.Add($"{where}: expected an integer");
        return null;
    }

    private static long? ReadLong(JsonElement value, string where, List<string> errors)
    {
        // Proto3 JSON writes int64 as a string; accept both.
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var l))
        {
            return l;
        }

        if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), out l))
        {
            return l;
        }

        errors.Add($"{where}: expected an integer version");
        return null;
    }
}
