using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.OpenInference;

public sealed class OpenInferenceApiTests : IAsyncLifetime
{
    private const string MnistInfer = "/v2/models/mnist/infer";
    private const int IdentityWidth = 3;

    private static readonly FixtureElementType[] s_identityTypes =
    [
        FixtureElementType.Double, FixtureElementType.Int32, FixtureElementType.UInt8,
        FixtureElementType.Bool, FixtureElementType.Float16, FixtureElementType.String,
    ];

    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        var configs = new List<string> { """{ "name": "mnist", "base_path": "mnist" }""", """{ "name": "multi", "base_path": "multi" }""" };
        foreach (var type in s_identityTypes)
        {
            var name = IdentityModel(type);
            _repo.AddVersion(name, 1, ModelFactory.CreateIdentity(type, IdentityWidth));
            configs.Add($$"""{ "name": "{{name}}", "base_path": "{{name}}" }""");
        }

        var config = _repo.WriteConfig("models.json", $$"""{ "model_config_list": [ {{string.Join(", ", configs)}} ] }""");
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task Server_metadata_names_the_server()
    {
        var (status, body, text) = await Json.GetAsync(_server.Client, "/v2");
        Assert.True(status == 200, text);
        Assert.Equal("servingstack", body!["name"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["version"]!.GetValue<string>()), text);
        Assert.NotNull(body["extensions"]!.AsArray());
    }

    [Fact]
    public async Task Health_live_is_200()
    {
        var (status, body, text) = await Json.GetAsync(_server.Client, "/v2/health/live");
        Assert.True(status == 200, text);
        Assert.True(body!["live"]!.GetValue<bool>(), text);
    }

    [Fact]
    public async Task Health_ready_is_200_once_every_model_is_loaded()
    {
        await Eventually.TrueAsync(async () => (await Json.GetAsync(_server.Client, "/v2/health/ready")).Status == 200, "/v2/health/ready to be 200");
        var (status, body, text) = await Json.GetAsync(_server.Client, "/v2/health/ready");
        Assert.True(status == 200, text);
        Assert.True(body!["ready"]!.GetValue<bool>(), text);
    }

    [Fact]
    public async Task Model_metadata_describes_versions_platform_inputs_and_outputs()
    {
        var (status, body, text) = await Json.GetAsync(_server.Client, "/v2/models/mnist");
        Assert.True(status == 200, text);
        AssertMnistMetadata(body!, text);
    }

    [Fact]
    public async Task Version_metadata_describes_that_version()
    {
        var (status, body, text) = await Json.GetAsync(_server.Client, "/v2/models/mnist/versions/1");
        Assert.True(status == 200, text);
        AssertMnistMetadata(body!, text);
        Assert.Equal("1", body!["parameters"]!["version"]!.GetValue<string>());
    }

    [Fact]
    public async Task Model_ready_is_200_for_a_loaded_model_and_its_version()
    {
        foreach (var path in new[] { "/v2/models/mnist/ready", "/v2/models/mnist/versions/1/ready" })
        {
            var (status, body, text) = await Json.GetAsync(_server.Client, path);
            Assert.True(status == 200, $"{path}: {text}");
            Assert.Equal("mnist", body!["name"]!.GetValue<string>());
            Assert.True(body["ready"]!.GetValue<bool>(), $"{path}: {text}");
        }
    }

    [Fact]
    public async Task Infer_with_flat_data_matches_the_reference_MLP_for_every_row()
    {
        var rows = TestData.MnistRows(3, seed: 21);
        var data = new JsonArray(rows.SelectMany(r => r).Select(v => (JsonNode)v).ToArray());
        var (status, body, text) = await Json.PostAsync(_server.Client, MnistInfer, new JsonObject
        {
            ["id"] = "request-flat",
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "x", ["shape"] = new JsonArray(3, 784), ["datatype"] = "FP32", ["data"] = data }),
        });

        Assert.True(status == 200, text);
        AssertMnistResponse(body!, rows, "request-flat", text);
    }

    [Fact]
    public async Task Infer_with_nested_data_matches_the_reference_MLP_for_every_row()
    {
        var rows = TestData.MnistRows(3, seed: 22);
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v2/models/mnist/versions/1/infer", new JsonObject
        {
            ["id"] = "request-nested",
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "x", ["shape"] = new JsonArray(3, 784), ["datatype"] = "FP32", ["data"] = Json.Matrix(rows) }),
        });

        Assert.True(status == 200, text);
        AssertMnistResponse(body!, rows, "request-nested", text);
    }

    [Fact]
    public async Task Infer_returns_only_the_requested_outputs()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v2/models/multi/infer", """
            {"inputs": [
                {"name": "a", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, -1, 0.5, 2]},
                {"name": "b", "shape": [2, 3], "datatype": "FP32", "data": [4, 5, 6, 2, 2, -3]}],
             "outputs": [{"name": "product"}]}
            """);

        Assert.True(status == 200, text);
        var outputs = body!["outputs"]!.AsArray();
        var output = Assert.Single(outputs);
        Assert.Equal("product", output!["name"]!.GetValue<string>());
        Assert.Equal("FP32", output["datatype"]!.GetValue<string>());
        Assert.Equal(new long[] { 2, 3 }, Longs(output["shape"]));
        Assert.Equal(new float[] { 4, 10, 18, -2, 1, -6 }, Json.Floats(output["data"]));
    }

    [Theory]
    [InlineData(FixtureElementType.Double, "FP64", "[0.1, -2.5, 1e300, 5e-324, 3.141592653589793, -123456.789]")]
    [InlineData(FixtureElementType.Int32, "INT32", "[-2147483648, -1, 0, 1, 123456789, 2147483647]")]
    [InlineData(FixtureElementType.UInt8, "UINT8", "[0, 1, 127, 128, 254, 255]")]
    [InlineData(FixtureElementType.Bool, "BOOL", "[true, false, true, true, false, false]")]
    [InlineData(FixtureElementType.Float16, "FP16", "[0.5, -2, 1024, 65504, 0.0009765625, -0.25]")]
    [InlineData(FixtureElementType.String, "BYTES", """["hello", "", "naïve ☃", "a,b", "quote\"d", "tab\t"]""")]
    public async Task Infer_round_trips_every_value_through_an_identity_model(FixtureElementType type, string datatype, string data)
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, $"/v2/models/{IdentityModel(type)}/infer", $$"""
            {"inputs": [{"name": "x", "shape": [2, {{IdentityWidth}}], "datatype": "{{datatype}}", "data": {{data}}}]}
            """);

        Assert.True(status == 200, text);
        var output = Assert.Single(body!["outputs"]!.AsArray());
        Assert.Equal("y", output!["name"]!.GetValue<string>());
        Assert.Equal(datatype, output["datatype"]!.GetValue<string>());
        Assert.Equal(new long[] { 2, IdentityWidth }, Longs(output["shape"]));
        var expected = JsonNode.Parse(data)!.AsArray();
        var actual = output["data"]!.AsArray();
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            AssertSameValue(type, expected[i]!, actual[i]!, i);
        }
    }

    [Fact]
    public async Task Infer_rounds_FP16_values_to_the_nearest_half()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, $"/v2/models/{IdentityModel(FixtureElementType.Float16)}/infer", """
            {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP16", "data": [1.1, 0.1, 3.14159]}]}
            """);

        Assert.True(status == 200, text);
        var actual = Json.Floats(body!["outputs"]![0]!["data"]);
        Assert.Equal(new[] { (float)(Half)1.1, (float)(Half)0.1, (float)(Half)3.14159 }, actual);
    }

    [Fact]
    public async Task Infer_returns_400_naming_both_datatypes_when_FP64_is_sent_for_an_FP32_input()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, MnistInfer, MnistInput("FP64", [1, 784], 784));
        TfServingBadInputTests.AssertError(status, body, text, 400, "'x'", "FP64", "FP32");
    }

    [Fact]
    public async Task Infer_returns_400_when_the_datatype_is_unknown()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, MnistInfer, MnistInput("FLOAT32", [1, 784], 784));
        TfServingBadInputTests.AssertError(status, body, text, 400, "'x'", "unknown datatype 'FLOAT32'", "FP32");
    }

    [Fact]
    public async Task Infer_returns_400_when_the_data_count_does_not_match_the_shape()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, MnistInfer, MnistInput("FP32", [2, 784], 784));
        TfServingBadInputTests.AssertError(status, body, text, 400, "'x'", "[2,784]", "1568", "784");
    }

    [Fact]
    public async Task Infer_returns_400_when_inputs_is_missing()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, MnistInfer, """{"id": "no-inputs"}""");
        TfServingBadInputTests.AssertError(status, body, text, 400, "'inputs'");
    }

    [Fact]
    public async Task Infer_returns_400_naming_an_unknown_requested_output_and_the_model_outputs()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v2/models/multi/infer", """
            {"inputs": [
                {"name": "a", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]},
                {"name": "b", "shape": [1, 3], "datatype": "FP32", "data": [4, 5, 6]}],
             "outputs": [{"name": "quotient"}]}
            """);
        TfServingBadInputTests.AssertError(status, body, text, 400, "unknown output 'quotient'", "'sum'", "'product'");
    }

    [Fact]
    public async Task Infer_and_metadata_return_400_when_the_version_in_the_URL_is_not_numeric()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v2/models/mnist/versions/latest/infer", MnistInput("FP32", [1, 784], 784));
        TfServingBadInputTests.AssertError(status, body, text, 400, "version 'latest'", "positive integer");

        (status, body, text) = await Json.GetAsync(_server.Client, "/v2/models/mnist/versions/abc");
        TfServingBadInputTests.AssertError(status, body, text, 400, "version 'abc'", "positive integer");
    }

    [Fact]
    public async Task Infer_and_metadata_return_404_for_an_unknown_model()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v2/models/nope/infer", MnistInput("FP32", [1, 784], 784));
        TfServingBadInputTests.AssertError(status, body, text, 404, "'nope'", "mnist");

        (status, body, text) = await Json.GetAsync(_server.Client, "/v2/models/nope");
        TfServingBadInputTests.AssertError(status, body, text, 404, "'nope'", "mnist");
    }

    private static string IdentityModel(FixtureElementType type) => "identity_" + type.ToString().ToLowerInvariant();

    private static JsonObject MnistInput(string datatype, long[] shape, int count) => new()
    {
        ["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "x",
            ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
            ["datatype"] = datatype,
            ["data"] = new JsonArray(TestData.MnistRows(1)[0][..count].Select(v => (JsonNode)v).ToArray()),
        }),
    };

    private static long[] Longs(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<long>()).ToArray();

    private static void AssertMnistMetadata(JsonNode body, string text)
    {
        Assert.Equal("mnist", body["name"]!.GetValue<string>());
        Assert.Equal(new[] { "1" }, body["versions"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.Equal("onnxruntime_onnx", body["platform"]!.GetValue<string>());
        var input = Assert.Single(body["inputs"]!.AsArray());
        Assert.Equal("x", input!["name"]!.GetValue<string>());
        Assert.Equal("FP32", input["datatype"]!.GetValue<string>());
        Assert.Equal(new long[] { -1, 784 }, Longs(input["shape"]));
        var output = Assert.Single(body["outputs"]!.AsArray());
        Assert.True(output is not null, text);
        Assert.Equal("probabilities", output["name"]!.GetValue<string>());
        Assert.Equal("FP32", output["datatype"]!.GetValue<string>());
        Assert.Equal(new long[] { -1, 10 }, Longs(output["shape"]));
    }

    private static void AssertMnistResponse(JsonNode body, float[][] rows, string id, string text)
    {
        Assert.Equal(id, body["id"]?.GetValue<string>());
        Assert.Equal("mnist", body["model_name"]!.GetValue<string>());
        Assert.Equal("1", body["model_version"]!.GetValue<string>());
        var output = Assert.Single(body["outputs"]!.AsArray());
        Assert.True(output is not null, text);
        Assert.Equal("probabilities", output["name"]!.GetValue<string>());
        Assert.Equal("FP32", output["datatype"]!.GetValue<string>());
        Assert.Equal(new long[] { rows.Length, MlpWeights.OutputSize }, Longs(output["shape"]));
        var data = Json.Floats(output["data"]);
        Assert.Equal(rows.Length * MlpWeights.OutputSize, data.Length);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), data.AsSpan(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
        }
    }

    private static void AssertSameValue(FixtureElementType type, JsonNode expected, JsonNode actual, int index)
    {
        var message = $"element {index}: sent {expected.ToJsonString()} but got {actual.ToJsonString()}";
        var same = type switch
        {
            FixtureElementType.Double => expected.GetValue<double>().Equals(actual.GetValue<double>()),
            FixtureElementType.Int32 => expected.GetValue<int>() == actual.GetValue<int>(),
            FixtureElementType.UInt8 => expected.GetValue<byte>() == actual.GetValue<byte>(),
            FixtureElementType.Bool => expected.GetValue<bool>() == actual.GetValue<bool>(),
            FixtureElementType.Float16 => expected.GetValue<double>().Equals(actual.GetValue<double>()),
            FixtureElementType.String => expected.GetValue<string>() == actual.GetValue<string>(),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
        };
        Assert.True(same, message);
    }
}
