using System.Text.Json.Nodes;

namespace ServingStack.Tests.Kubernetes;

internal static class JsonNodeExtensions
{
    /// <summary>Every (property name, string value) pair below <paramref name="node"/>, depth first.</summary>
    public static IEnumerable<(string Key, string Value)> Descendants(this JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var text))
                    {
                        yield return (key, text);
                    }
                    else if (value is not null)
                    {
                        foreach (var inner in value.Descendants())
                        {
                            yield return inner;
                        }
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array.Where(i => i is not null))
                {
                    foreach (var inner in item!.Descendants())
                    {
                        yield return inner;
                    }
                }

                break;
        }
    }
}
