using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.TfServing;

public sealed class TfServingPredictTests : IAsyncLifetime
{
    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        _repo.AddVersion("ids", 1, ModelFactory.CreateInt64Model());
        _repo.AddVersion("floats", 1, ModelFactory.CreateIdentity(FixtureElementType.Float, 3));
        var config = _repo.WriteConfig("models.json", """
            { "model_config_list": [
                { "name": "mnist", "base_path": "mnist" },
                { "name": "multi", "base_path": "multi" },
                { "name": "ids", "base_path": "ids" },
                { "name": "floats", "base_path": "floats" } ] }
            """);
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task Predict_row_format_matches_the_reference_MLP_for_every_row()
    {
        var rows = TestData.MnistRows(3);
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v1/models/mnist:predict",
            new JsonObject { ["instances"] = Json.Matrix(rows) });

        Assert.True(status == 200, text);
        var predictions = body!["predictions"]!.AsArray();
        Assert.Equal(rows.Length, predictions.Count);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            AssertClose(weights.Evaluate(rows[r]), Json.Floats(predictions[r]));
        }
    }

    [Fact]
    public async Task Predict_columnar_format_returns_outputs_matching_the_reference()
    {
        var rows = TestData.MnistRows(2, seed: 11);
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v1/models/mnist/versions/1:predict",
            new JsonObject { ["signature_name"] = "serving_default", ["inputs"] = new JsonObject { ["x"] = Json.Matrix(rows) } });

        Assert.True(status == 200, text);
        var outputs = body!["outputs"]!.AsArray();
        Assert.Equal(2, outputs.Count);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            AssertClose(weights.Evaluate(rows[r]), Json.Floats(outputs[r]));
        }
    }

    [Fact]
    public async Task Predict_with_several_outputs_names_them_per_instance_and_per_column()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v1/models/multi:predict", """
            {"instances": [ {"a": [1, 2, 3], "b": [4, 5, 6]}, {"a": [-1, 0.5, 2], "b": [2, 2, -3]} ]}
            """);
        Assert.True(status == 200, text);
        var p = body!["predictions"]!.AsArray();
        Assert.Equal(new float[] { 5, 7, 9 }, Json.Floats(p[0]!["sum"]));
        Assert.Equal(new float[] { 4, 10, 18 }, Json.Floats(p[0]!["product"]));
        Assert.Equal(new float[] { 1, 2.5f, -1 }, Json.Floats(p[1]!["sum"]));
        Assert.Equal(new float[] { -2, 1, -6 }, Json.Floats(p[1]!["product"]));

        (status, body, text) = await Json.PostAsync(_server.Client, "/v1/models/multi:predict", """
            {"inputs": {"a": [[1, 2, 3]], "b": [[4, 5, 6]]}}
            """);
        Assert.True(status == 200, text);
        Assert.Equal(new float[] { 5, 7, 9 }, Json.Floats(body!["outputs"]!["sum"]![0]));
        Assert.Equal(new float[] { 4, 10, 18 }, Json.Floats(body["outputs"]!["product"]![0]));
    }

    [Fact]
    public async Task Predict_int64_model_is_exact_including_large_values()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v1/models/ids:predict", """
            {"instances": [[1, -2, 3000000000, 4611686018427387903]]}
            """);
        Assert.True(status == 200, text);
        var row = body!["predictions"]![0]!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
        Assert.Equal(new long[] { 2, -4, 6000000000, 9223372036854775806 }, row);
    }

    [Fact]
    public async Task Predict_accepts_NaN_and_Infinity_literals_like_TF_Serving()
    {
        var (status, _, text) = await Json.PostAsync(_server.Client, "/v1/models/floats:predict", """
            {"instances": [[NaN, Infinity, -Infinity]]}
            """);
        Assert.True(status == 200, text);
        Assert.Equal("""{"predictions":[[NaN,Infinity,-Infinity]]}""", text);
    }

    [Fact]
    public async Task Predict_accepts_a_named_input_object_for_a_single_input_model()
    {
        var rows = TestData.MnistRows(1, seed: 3);
        var instance = new JsonObject { ["x"] = new JsonArray(rows[0].Select(v => (JsonNode)v).ToArray()) };
        var (status, body, text) = await Json.PostAsync(_server.Client, "/v1/models/mnist:predict",
            new JsonObject { ["instances"] = new JsonArray(instance) });
        Assert.True(status == 200, text);
        AssertClose(MlpWeights.Create(42).Evaluate(rows[0]), Json.Floats(body!["predictions"]![0]));
    }

    internal static void AssertClose(double[] expected, float[] actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"element {i}: expected {expected[i]} but got {actual[i]}");
        }
    }
}
