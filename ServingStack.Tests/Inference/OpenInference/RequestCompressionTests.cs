using System.Buffers.Binary;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.OpenInference;

/// <summary>
/// tritonclient can compress request bodies (<c>request_compression_algorithm</c>: gzip, or deflate meaning zlib);
/// the server decompresses them, and the body limit bounds what they decompress to.
/// </summary>
public sealed class RequestCompressionTests : IAsyncLifetime
{
    private const int Limit = 1024 * 1024;
    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        _server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}", $"--max_request_body_bytes={Limit}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    public async Task A_compressed_binary_request_is_decompressed_and_answered_correctly(string encoding)
    {
        var row = TestData.MnistRows(1, seed: 8)[0];
        var json = Encoding.UTF8.GetBytes("""{"inputs":[{"name":"x","shape":[1,784],"datatype":"FP32","parameters":{"binary_data_size":3136}}]}""");
        var data = new byte[row.Length * 4];
        for (var i = 0; i < row.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), row[i]);
        }

        var (status, body, text) = await PostAsync(Compress([.. json, .. data], encoding), encoding, json.Length);

        Assert.True(status == 200, text);
        TfServingPredictTests.AssertClose(MlpWeights.Create(42).Evaluate(row), Json.Floats(body!["outputs"]![0]!["data"]));
    }

    [Fact]
    public async Task A_body_that_decompresses_past_the_limit_is_a_413_without_reading_it_all()
    {
        var bomb = Compress(Encoding.UTF8.GetBytes("{\"inputs\": [" + new string(' ', 4 * Limit) + "]}"), "gzip");
        Assert.True(bomb.Length < Limit / 10, $"the bomb is {bomb.Length} bytes compressed");

        var (status, body, text) = await PostAsync(bomb, "gzip", null);

        TfServingBadInputTests.AssertError(status, body, text, 413, "gzip", "decompresses to more than 1048576 bytes");
    }

    [Fact]
    public async Task Corrupt_compressed_data_is_a_400_and_an_unknown_encoding_a_415()
    {
        var (status, body, text) = await PostAsync([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0xFF, 0x42, 0x42, 0x42], "gzip", null);
        TfServingBadInputTests.AssertError(status, body, text, 400, "not valid gzip data");

        (status, body, text) = await PostAsync(Encoding.UTF8.GetBytes("{}"), "br", null);
        TfServingBadInputTests.AssertError(status, body, text, 415, "Content-Encoding 'br'", "gzip or deflate");
    }

    private static byte[] Compress(byte[] data, string encoding)
    {
        using var output = new MemoryStream();
        using (Stream compressor = encoding == "gzip" ? new GZipStream(output, CompressionLevel.Fastest) : new ZLibStream(output, CompressionLevel.Fastest))
        {
            compressor.Write(data);
        }

        return output.ToArray();
    }

    private async Task<(int Status, JsonNode? Body, string Text)> PostAsync(byte[] body, string encoding, int? headerLength)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v2/models/mnist/infer") { Content = new ByteArrayContent(body) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        message.Content.Headers.ContentEncoding.Add(encoding);
        if (headerLength is { } length)
        {
            message.Headers.TryAddWithoutValidation("Inference-Header-Content-Length", length.ToString());
        }

        using var response = await _server.Client.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, JsonNode.Parse(text), text);
    }
}
