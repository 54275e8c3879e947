using System.Net.Http.Headers;
using System.Text;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.TfServing;

public sealed class TfServingBodyLimitConnectionTests
{
    [Fact]
    public async Task Predict_413_for_a_declared_oversized_body_tells_the_client_the_connection_closes()
    {
        using var repo = new TempModelRepository();
        repo.AddMlp("mnist", 1, seed: 42);
        await using var server = await InferenceServer.StartReadyAsync(
            "--model_name=mnist", $"--model_base_path={repo.ModelPath("mnist")}", "--max_request_body_bytes=4096");

        var large = "{\"instances\": [[" + string.Join(",", Enumerable.Repeat("0.123", 1600)) + "]]}";
        using var content = new StringContent(large, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await server.Client.PostAsync("/v1/models/mnist:predict", content);

        Assert.Equal(413, (int)response.StatusCode);
        // The server never reads this body and drops the connection after answering; without "Connection: close" a
        // client reuses the connection and its next request fails with "The response ended prematurely".
        Assert.True(response.Headers.ConnectionClose == true, $"headers: {response.Headers}");
    }
}
