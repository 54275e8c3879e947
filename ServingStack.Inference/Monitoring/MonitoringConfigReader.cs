using System.Text.Json;
using System.Text.Json.Nodes;
using ServingStack.Inference.Configuration;

namespace ServingStack.Inference.Monitoring;

/// <summary>
/// Reads <c>--monitoring_config_file</c>: TF Serving's <c>MonitoringConfig</c> in protobuf text format. Like
/// tensorflow_model_server (whose text-format parser refuses a field the message does not have), an unknown field or a
/// value of the wrong type is an error, never silently ignored; every such problem in the file is collected.
/// </summary>
public static class MonitoringConfigReader
{
    private static readonly HashSet<string> s_noRepeatedFields = new(StringComparer.Ordinal);

    public static void Read(string path, MonitoringConfig target)
    {
        target.Source = path;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            target.ReadErrors.Add($"cannot read the file: {ex.Message}");
            return;
        }

        JsonObject root;
        try
        {
            root = TextProtoParser.Parse(text, s_noRepeatedFields);
        }
        catch (FormatException ex)
        {
            target.ReadErrors.Add($"not valid protobuf text format: {ex.Message}");
            return;
        }

        Map(root, target);
    }

    private static void Map(JsonObject root, MonitoringConfig target)
    {
        foreach (var (name, value) in root)
        {
            if (name != "prometheus_config")
            {
                target.ReadErrors.Add($"unknown field '{name}' (MonitoringConfig has only 'prometheus_config')");
            }
            else if (value is JsonObject prometheus)
            {
                MapPrometheus(prometheus, target);
            }
            else
            {
                target.ReadErrors.Add("prometheus_config must be a message: prometheus_config { enable: true path: \"...\" }");
            }
        }
    }

    private static void MapPrometheus(JsonObject prometheus, MonitoringConfig target)
    {
        var config = target.PrometheusConfig;
        foreach (var (name, value) in prometheus)
        {
            switch (name)
            {
                case "enable":
                    if (ReadBool(value) is { } enable)
                    {
                        config.Enable = enable;
                    }
                    else
                    {
                        target.ReadErrors.Add($"prometheus_config.enable must be true or false, not {Describe(value)}");
                    }

                    break;
                case "path":
                    if (value is JsonValue path && path.GetValueKind() == JsonValueKind.String)
                    {
                        config.Path = path.GetValue<string>();
                    }
                    else
                    {
                        target.ReadErrors.Add($"prometheus_config.path must be a quoted string, not {Describe(value)}");
                    }

                    break;
                default:
                    target.ReadErrors.Add($"unknown field 'prometheus_config.{name}' (PrometheusConfig has 'enable' and 'path')");
                    break;
            }
        }
    }

    /// <summary>Protobuf text format spells a bool true/false, t/f, True/False or 1/0.</summary>
    private static bool? ReadBool(JsonNode? value) => value switch
    {
        JsonValue v when v.GetValueKind() is JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() is JsonValueKind.False => false,
        JsonValue v when v.TryGetValue<long>(out var number) && number is 0 or 1 => number == 1,
        _ => null,
    };

    private static string Describe(JsonNode? value) => value switch
    {
        null => "an empty value",
        JsonObject => "a message",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => $"'{v.GetValue<string>()}'",
        _ => value.ToJsonString(),
    };
}
