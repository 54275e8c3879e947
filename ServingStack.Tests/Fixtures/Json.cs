using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServingStack.Tests.Fixtures;

/// <summary>Small helpers to post JSON and read back status and body.</summary>
public static class Json
{
    public static async Task<(int Status, JsonNode? Body, string Text)> PostAsync(HttpClient client, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(path, content);
        return await ReadAsync(response);
    }

    public static Task<(int Status, JsonNode? Body, string Text)> PostAsync(HttpClient client, string path, JsonNode json) =>
        PostAsync(client, path, json.ToJsonString());

    public static async Task<(int Status, JsonNode? Body, string Text)> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return await ReadAsync(response);
    }

    private static async Task<(int Status, JsonNode? Body, string Text)> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try
        {
            body = text.Length == 0 ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
        }

        return ((int)response.StatusCode, body, text);
    }

    public static JsonArray Matrix(float[][] rows)
    {
        var array = new JsonArray();
        foreach (var row in rows)
        {
            var r = new JsonArray();
            foreach (var v in row)
            {
                r.Add(v);
            }

            array.Add(r);
        }

        return array;
    }

    public static float[] Floats(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<float>()).ToArray();
}
