using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ServingStack.Gateway.Routing;
using ServingStack.Gateway.Splits;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Gateway;

/// <summary>Predict calls through the gateway that report the status, the target that served and the predictions.</summary>
internal static class GatewayClient
{
    public static float[][] Rows(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, MlpWeights.InputSize).Select(_ => (float)random.NextDouble()).ToArray())];
    }

    /// <summary>
    /// A value of the split's sticky header that the split maps to <paramref name="target"/> at its current weights: how
    /// tests send requests that the split itself routes (and canary analysis counts) to a known target.
    /// </summary>
    public static string StickyKeyFor(ModelSplit split, string target, string prefix = "user-")
    {
        for (var i = 0; i < 100_000; i++)
        {
            var key = $"{prefix}{i}";
            if (WeightedSplitPolicy.Choose(split, StableHash.Fnv1a64(key))?.Name == target)
            {
                return key;
            }
        }

        throw new InvalidOperationException($"no sticky key maps to '{target}' at the split's weights");
    }

    public static async Task<(int Status, string? ServedBy, float[]? Prediction, string Text)> PredictAsync(
        HttpClient client, float[] row, params (string Name, string Value)[] headers)
    {
        var body = new JsonObject { ["instances"] = Json.Matrix([row]) }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/models/mnist:predict")
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var servedBy = response.Headers.TryGetValues(WeightedSplitMiddleware.ServedByHeader, out var values) ? values.Single() : null;
        float[]? prediction = response.IsSuccessStatusCode ? Json.Floats(JsonNode.Parse(text)!["predictions"]![0]) : null;
        return ((int)response.StatusCode, servedBy, prediction, text);
    }
}
