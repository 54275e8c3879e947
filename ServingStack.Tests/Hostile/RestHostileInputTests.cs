using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Hostile;

/// <summary>Hostile input on the REST APIs, one regression per kind of attack; see <c>rest-corpus.json</c> for the breadth.</summary>
[Collection(HostileServerCollection.Name)]
public sealed class RestHostileInputTests(HostileServerFixture fixture)
{
    private const string MnistInfer = "/v2/models/mnist/infer";
    private const string MnistPredict = "/v1/models/mnist:predict";
    private const long HundredMiB = 100L * 1024 * 1024;

    private HttpClient Client => fixture.Server.Client;

    [Fact]
    public async Task A_declared_shape_the_body_cannot_fill_is_a_400_that_allocates_nothing()
    {
        var before = fixture.PeakResidentBytes();
        (string Path, string Body, string[] Fragments)[] requests =
        [
            (MnistInfer, """{"inputs":[{"name":"x","shape":[1,268435455],"datatype":"FP32","data":0}]}""", ["input 'x'", "[1,268435455]", "268435455 values"]),
            (MnistInfer, """{"inputs":[{"name":"x","shape":[268435455],"datatype":"FP64","data":0}]}""", ["input 'x'", "[268435455]"]),
            (MnistInfer, """{"inputs":[{"name":"x","shape":[1,268435455],"datatype":"FP32","data":[0]}]}""", ["input 'x'", "268435455 values", "has 1"]),
            (MnistInfer, """{"inputs":[{"name":"x","shape":[16000,16000],"datatype":"FP32","data":[[0]]}]}""", ["input 'x'", "does not follow shape [16000,16000]"]),
            ("/v2/models/identity_string/infer", """{"inputs":[{"name":"x","shape":[268435455],"datatype":"BYTES","data":"a"}]}""", ["input 'x'", "[268435455]"]),
            (MnistInfer, """{"inputs":[{"name":"x","shape":[1,2147483647],"datatype":"FP32","data":[0]}]}""", ["input 'x'", "too large"]),
            (MnistInfer, """{"inputs":[{"name":"x","shape":[3037000500,3037000500],"datatype":"FP32","data":[0]}]}""", ["input 'x'", "too large"]),
        ];

        foreach (var (path, body, fragments) in requests)
        {
            var (status, json, text) = await Json.PostAsync(Client, path, body);
            TfServingBadInputTests.AssertError(status, json, text, 400, fragments);
        }

        var growth = fixture.PeakResidentBytes() - before;
        Assert.True(growth < HundredMiB, $"peak resident memory grew by {growth / (1024 * 1024)} MiB answering requests of under 100 bytes");
        await fixture.AssertServesMnistAsync();
    }

    public static TheoryData<string, string, string[]> BadText => new()
    {
        { MnistInfer, """{"id": "\ud800", "inputs": []}""", ["the string at id", "unpaired UTF-16 surrogate"] },
        { MnistInfer, """{"id": "{{hex:C3}}", "inputs": []}""", ["the string at id", "not valid UTF-8"] },
        { MnistInfer, """{"inputs": [{"name": "\udfff", "shape": [1], "datatype": "FP32", "data": [1]}]}""", ["inputs[0].name", "surrogate"] },
        { MnistInfer, """{"inputs": [{"name": "x", "shape": [1], "datatype": "F{{hex:FF}}", "data": [1]}]}""", ["inputs[0].datatype", "not valid UTF-8"] },
        { MnistInfer, """{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "\ud800x"}]}""", ["outputs[0].name", "surrogate"] },
        { MnistInfer, """{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": {"\ud800": true}}""", ["a property name in parameters", "surrogate"] },
        { "/v2/models/identity_string/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "BYTES", "data": ["a", "b", "\ud800"]}]}""", ["inputs[0].data[2]", "surrogate"] },
        { MnistPredict, """{"signature_name": "\udc00", "instances": [[1]]}""", ["the string at signature_name", "surrogate"] },
        { MnistPredict, """{"instances": [{"\ud800": [1]}]}""", ["a property name in instances[0]", "surrogate"] },
        { "/v1/models/multi:predict", """{"inputs": {"a{{hex:80}}": [[1, 2, 3]]}}""", ["a property name in inputs", "not valid UTF-8"] },
        { "/v1/models/identity_string:predict", """{"instances": [["a", "b", {"b64": "/w=="}]]}""", ["'x'", "not valid UTF-8"] },
    };

    [Theory]
    [MemberData(nameof(BadText))]
    public async Task A_string_that_is_not_text_is_a_400_naming_where_it_is(string path, string body, string[] fragments)
    {
        var request = new HostileRequest("bad text", "POST", path, new Dictionary<string, string>(), body, 400, fragments);
        using var content = new ByteArrayContent(request.BodyBytes()!);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Client.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        TfServingBadInputTests.AssertError((int)response.StatusCode, JsonNode.Parse(text), text, 400, fragments);
    }

    [Theory]
    [InlineData(MnistPredict, "922337203685478")]
    [InlineData("/v1/models/batched:predict", "922337203685478")]
    [InlineData("/v1/models/batched:predict", "5000000000")]
    [InlineData("/v1/models/batched:predict", "99999999999999999999999999")]
    public async Task A_timeout_header_beyond_what_timers_hold_is_clamped_and_the_request_runs(string path, string milliseconds)
    {
        var rows = TestData.MnistRows(2, seed: 41);
        using var message = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(new JsonObject { ["instances"] = Json.Matrix(rows) }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        message.Headers.Add("X-Request-Timeout-Ms", milliseconds);

        using var response = await Client.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode == 200, text);
        var predictions = JsonNode.Parse(text)!["predictions"]!.AsArray();
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(fixture.Weights.Evaluate(rows[r]), Json.Floats(predictions[r]));
        }
    }

    public static TheoryData<string, string, string, int> LongClientText => new()
    {
        { "GET", "/v2/models/{{repeat:m:7000}}", "", 404 },
        { "POST", "/v2/models/{{repeat:m:7000}}/infer", "{}", 404 },
        { "POST", "/v2/models/mnist/versions/{{repeat:9:7000}}x/infer", "{}", 400 },
        { "POST", "/v1/models/{{repeat:m:7000}}:predict", "{}", 404 },
        { "POST", "/v1/models/mnist/labels/{{repeat:l:7000}}:predict", "{}", 404 },
        { "GET", "/v1/models/mnist/labels/{{repeat:l:7000}}", "", 404 },
        { "POST", "/v1/models/mnist:{{repeat:v:7000}}", "{}", 404 },
        { "POST", "/v1/models/mnist/{{repeat:s:7000}}:predict", "{}", 404 },
        { "POST", MnistInfer, """{"inputs": [{"name": "{{repeat:n:2097152}}", "shape": [1, 1], "datatype": "FP32", "data": [1]}]}""", 400 },
        { "POST", MnistInfer, """{"inputs": [{"name": "x", "shape": [1, 1], "datatype": "{{repeat:D:2097152}}", "data": [1]}]}""", 400 },
        { "POST", "/v2/models/multi/infer", """{"inputs": [{"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}, {"name": "b", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}], "outputs": [{"name": "{{repeat:o:2097152}}"}]}""", 400 },
        { "POST", "/v1/models/multi:predict", """{"instances": [{"a": [1, 2, 3], "b": [1, 2, 3], "{{repeat:k:2097152}}": [1]}]}""", 400 },
        { "POST", "/v1/models/multi:predict", """{"inputs": {"a": [[1, 2, 3]], "{{repeat:k:2097152}}": [[1]]}}""", 400 },
        { "POST", MnistPredict, """{"signature_name": "{{repeat:s:2097152}}", "instances": [[1]]}""", 400 },
        { "POST", MnistPredict, """{"instances": [["{{repeat:s:2097152}}"]]}""", 400 },
    };

    [Theory]
    [MemberData(nameof(LongClientText))]
    public async Task Client_text_echoed_in_an_error_is_cut_to_256_characters(string method, string path, string body, int expectedStatus)
    {
        var request = new HostileRequest("long text", method, path, new Dictionary<string, string>(), body, expectedStatus, []);
        using var message = new HttpRequestMessage(new HttpMethod(method), request.ExpandedPath());
        if (method == "POST")
        {
            message.Content = new ByteArrayContent(request.BodyBytes()!);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await Client.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        TfServingBadInputTests.AssertError((int)response.StatusCode, JsonNode.Parse(text), text, expectedStatus);
        var error = JsonNode.Parse(text)!["error"]!.GetValue<string>();
        Assert.True(error.Length < 1000, $"the error repeats {error.Length} characters of client text: {error[..Math.Min(error.Length, 300)]}…");
    }

    [Fact]
    public async Task A_bare_NaN_key_is_not_JSON_while_NaN_values_still_are()
    {
        var row = string.Join(",", TestData.MnistRows(1)[0]);
        var (status, body, text) = await Json.PostAsync(Client, MnistPredict, $$"""{NaN: 1, "instances": [[{{row}}]]}""");
        TfServingBadInputTests.AssertError(status, body, text, 400, "not valid JSON");

        (status, _, text) = await Json.PostAsync(Client, "/v2/models/identity_double/infer",
            """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [NaN, Infinity, -Infinity]}]}""");
        Assert.True(status == 200, text);
        Assert.Contains("\"data\":[NaN,Infinity,-Infinity]", text);
    }

    public static TheoryData<string, string, string[]> OutOfRange => new()
    {
        { MnistPredict, $$"""{"instances": [[1e400, {{string.Join(",", Enumerable.Repeat("0", 783))}}]]}""", ["'x'", "1e400", "out of range for FP32"] },
        { MnistInfer, $$"""{"inputs": [{"name": "x", "shape": [1, 784], "datatype": "FP32", "data": [{{string.Join(",", Enumerable.Repeat("0", 783))}}, 3.5e38]}]}""", ["'x'", "3.5e38", "out of range for FP32"] },
        { "/v2/models/identity_double/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, -1e400, 2]}]}""", ["'x'", "-1e400", "out of range for FP64"] },
        { "/v2/models/identity_float16/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP16", "data": [65520, 0, 1]}]}""", ["'x'", "65520", "out of range for FP16"] },
        { "/v2/models/identity_uint8/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "UINT8", "data": [0, 256, 1]}]}""", ["'x'", "256", "out of range for UINT8 (0..255)"] },
        { "/v2/models/identity_int32/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "INT32", "data": [0, 2.5, 1]}]}""", ["'x'", "2.5", "not an integer"] },
        { "/v2/models/multi/infer", """{"inputs": [{"name": "a", "shape": [2, 3], "datatype": "FP32", "data": [[1, 2, 3, 4], [5, 6]]}, {"name": "b", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]}""", ["input 'a'", "does not follow shape [2,3]", "list of 4 where a list of 3 belongs"] },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public async Task Numbers_the_datatype_cannot_hold_and_ragged_data_are_400s(string path, string body, string[] fragments)
    {
        var (status, json, text) = await Json.PostAsync(Client, path, body);
        TfServingBadInputTests.AssertError(status, json, text, 400, fragments);
    }
}
