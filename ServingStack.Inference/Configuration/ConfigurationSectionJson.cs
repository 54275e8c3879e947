using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServingStack.Inference.Configuration;

/// <summary>
/// A configuration section (environment variables such as <c>Serving__ModelConfigList__0__name=mnist</c>) as the JSON
/// tree a config file would hold, so the file readers validate both alike: children keyed 0..n-1 become arrays,
/// <c>true</c>/<c>false</c> become booleans, every other value stays a string (the readers take numbers as strings,
/// as proto3 JSON does).
/// </summary>
public static class ConfigurationSectionJson
{
    /// <summary>The section's tree, under <paramref name="wrapIn"/> when given (<c>{"model_config_list": [...]}</c>).</summary>
    public static JsonDocument ToDocument(IConfigurationSection section, string? wrapIn = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        var node = ToNode(section);
        return JsonDocument.Parse((wrapIn is null ? node : new JsonObject { [wrapIn] = node }).ToJsonString());
    }

    private static JsonNode ToNode(IConfigurationSection section)
    {
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            var value = section.Value ?? "";
            return bool.TryParse(value, out var flag) ? JsonValue.Create(flag) : JsonValue.Create(value);
        }

        var indexes = children.Select(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : -1).ToList();
        if (indexes.Order().SequenceEqual(Enumerable.Range(0, children.Count)))
        {
            var array = new JsonArray();
            foreach (var child in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                array.Add(ToNode(child));
            }

            return array;
        }

        var obj = new JsonObject();
        foreach (var child in children)
        {
            obj[child.Key] = ToNode(child);
        }

        return obj;
    }
}
