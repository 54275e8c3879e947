using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.TfServing;

public sealed class TfServingBadInputTests : IAsyncLifetime
{
    private const string MnistPredict = "/v1/models/mnist:predict";
    private const string MultiPredict = "/v1/models/multi:predict";

    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        _repo.AddVersion("fixed", 1, ModelFactory.CreateFixedBatchMlp(MlpWeights.Create(42)));
        var config = _repo.WriteConfig("models.json", """
            { "model_config_list": [
                { "name": "mnist", "base_path": "mnist", "version_labels": { "stable": 1 } },
                { "name": "multi", "base_path": "multi" },
                { "name": "fixed", "base_path": "fixed" } ] }
            """);
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    private static readonly BadRequest s_unknownModel = new("/v1/models/nope:predict", OneMnistRow(), 404, "'nope'", "mnist");
    private static readonly BadRequest s_unknownVersion = new("/v1/models/mnist/versions/7:predict", OneMnistRow(), 404, "'mnist'", "version 7");
    private static readonly BadRequest s_unknownLabel = new("/v1/models/mnist/labels/canary:predict", OneMnistRow(), 404, "'mnist'", "label 'canary'", "stable");
    private static readonly BadRequest s_malformedJson = new(MnistPredict, """{"instances": [[1, 2""", 400, "not valid JSON");
    private static readonly BadRequest s_notAnObject = new(MnistPredict, "[[1, 2, 3]]", 400, "JSON object", "'instances'", "'inputs'");
    private static readonly BadRequest s_missingInput = new(MultiPredict, """{"instances": [{"a": [1, 2, 3]}]}""", 400, "instances[0]", "missing input 'b'");
    private static readonly BadRequest s_unknownInput = new(MultiPredict, """{"instances": [{"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]}]}""", 400, "unknown input 'c'", "'a'", "'b'");
    private static readonly BadRequest s_stringForFloat = new(MnistPredict, MnistRowWithFirstValue("\"abc\""), 400, "'x'", "\"abc\"", "FP32");
    private static readonly BadRequest s_shortRow = new(MnistPredict, MnistRowOfLength(783), 400, "'x'", "[1,783]", "784");
    private static readonly BadRequest s_wrongRank = new(MnistPredict, """{"instances": [1, 2, 3]}""", 400, "'x'", "rank 1", "rank 2", "[-1,784]");
    private static readonly BadRequest s_ragged = new(MnistPredict, RaggedMnistRows(), 400, "'x'", "ragged");
    private static readonly BadRequest s_bothFormats = new(MnistPredict, """{"instances": [[1]], "inputs": [[1]]}""", 400, "both 'instances' and 'inputs'");
    private static readonly BadRequest s_neitherFormat = new(MnistPredict, """{"signature_name": "serving_default"}""", 400, "missing 'instances' or 'inputs'");
    private static readonly BadRequest s_emptyInstances = new(MnistPredict, """{"instances": []}""", 400, "'instances' is empty");
    private static readonly BadRequest s_unknownSignature = new(MnistPredict, """{"signature_name": "classify_images", "instances": [[1]]}""", 400, "classify_images", "not found", "serving_default");
    private static readonly BadRequest s_classify = new("/v1/models/mnist:classify", """{"examples": [{"x": [1]}]}""", 501, ":classify", ":predict");
    private static readonly BadRequest s_fixedBatchOfTwo = new("/v1/models/fixed:predict", MnistRows(2), 400, "'x'", "[2,784]", "batch dimension", "must be 1");

    private static readonly BadRequest[] s_all =
    [
        s_unknownModel, s_unknownVersion, s_unknownLabel, s_malformedJson, s_notAnObject, s_missingInput, s_unknownInput,
        s_stringForFloat, s_shortRow, s_wrongRank, s_ragged, s_bothFormats, s_neitherFormat, s_emptyInstances,
        s_unknownSignature, s_classify, s_fixedBatchOfTwo,
    ];

    [Fact]
    public Task Predict_returns_404_when_the_model_is_unknown() => AssertRejectedAsync(s_unknownModel);

    [Fact]
    public Task Predict_returns_404_when_the_version_is_not_served() => AssertRejectedAsync(s_unknownVersion);

    [Fact]
    public Task Predict_returns_404_when_the_label_is_unknown_and_lists_the_known_labels() => AssertRejectedAsync(s_unknownLabel);

    [Fact]
    public Task Predict_returns_400_when_the_body_is_malformed_JSON() => AssertRejectedAsync(s_malformedJson);

    [Fact]
    public Task Predict_returns_400_when_the_body_is_not_an_object() => AssertRejectedAsync(s_notAnObject);

    [Fact]
    public Task Predict_returns_400_naming_the_missing_input_of_a_multi_input_model() => AssertRejectedAsync(s_missingInput);

    [Fact]
    public Task Predict_returns_400_naming_an_unknown_input_and_the_model_inputs() => AssertRejectedAsync(s_unknownInput);

    [Fact]
    public Task Predict_returns_400_when_a_value_is_a_string_where_FP32_is_expected() => AssertRejectedAsync(s_stringForFloat);

    [Fact]
    public Task Predict_returns_400_mentioning_784_when_a_row_has_783_values() => AssertRejectedAsync(s_shortRow);

    [Fact]
    public Task Predict_returns_400_when_the_input_rank_is_wrong() => AssertRejectedAsync(s_wrongRank);

    [Fact]
    public Task Predict_returns_400_mentioning_ragged_when_nested_lists_differ_in_length() => AssertRejectedAsync(s_ragged);

    [Fact]
    public Task Predict_returns_400_when_both_instances_and_inputs_are_given() => AssertRejectedAsync(s_bothFormats);

    [Fact]
    public Task Predict_returns_400_when_neither_instances_nor_inputs_is_given() => AssertRejectedAsync(s_neitherFormat);

    [Fact]
    public Task Predict_returns_400_when_instances_is_empty() => AssertRejectedAsync(s_emptyInstances);

    [Fact]
    public Task Predict_returns_400_when_the_signature_name_is_unknown() => AssertRejectedAsync(s_unknownSignature);

    [Fact]
    public Task Classify_returns_501_and_points_to_predict() => AssertRejectedAsync(s_classify);

    [Fact]
    public Task Predict_returns_400_mentioning_the_batch_dimension_when_a_fixed_batch_model_gets_batch_2() => AssertRejectedAsync(s_fixedBatchOfTwo);

    [Fact]
    public async Task Predict_returns_400_naming_an_unknown_input_in_the_columnar_format()
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, MultiPredict, """
            {"inputs": {"a": [[1, 2, 3]], "b": [[4, 5, 6]], "z": [[0, 0, 0]]}}
            """);
        AssertError(status, body, text, 400, "unknown input 'z'", "'a'", "'b'");
    }

    [Fact]
    public async Task Predict_returns_413_when_the_body_exceeds_max_request_body_bytes()
    {
        await using var small = await InferenceServer.StartReadyAsync(
            $"--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}", "--max_request_body_bytes=4096");

        var large = MnistRows(2);
        Assert.True(large.Length > 4096, $"the test body must exceed the limit but is {large.Length} bytes");
        var (status, body, text) = await Json.PostAsync(small.Client, MnistPredict, large);
        AssertError(status, body, text, 413, "4096");

        // A body under the limit still goes through on the same server (on a new connection: the server closes the
        // one the 413 went out on, as it never read that body).
        using var client = new HttpClient { BaseAddress = small.Address };
        var zeros = new float[MlpWeights.InputSize];
        var (okStatus, okBody, okText) = await Json.PostAsync(client, MnistPredict,
            new JsonObject { ["instances"] = Json.Matrix([zeros]) });
        Assert.True(okStatus == 200, okText);
        TfServingPredictTests.AssertClose(MlpWeights.Create(42).Evaluate(zeros), Json.Floats(okBody!["predictions"]![0]));
    }

    [Fact]
    public async Task Server_still_serves_correct_predictions_after_every_kind_of_bad_request()
    {
        foreach (var request in s_all)
        {
            await AssertRejectedAsync(request);
        }

        var rows = TestData.MnistRows(2, seed: 5);
        var (status, body, text) = await Json.PostAsync(_server.Client, MnistPredict,
            new JsonObject { ["instances"] = Json.Matrix(rows) });
        Assert.True(status == 200, text);
        var predictions = body!["predictions"]!.AsArray();
        Assert.Equal(rows.Length, predictions.Count);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), Json.Floats(predictions[r]));
        }

        (status, body, text) = await Json.PostAsync(_server.Client, "/v1/models/fixed:predict",
            new JsonObject { ["instances"] = Json.Matrix(rows[..1]) });
        Assert.True(status == 200, text);
        TfServingPredictTests.AssertClose(weights.Evaluate(rows[0]), Json.Floats(body!["predictions"]![0]));
    }

    private async Task AssertRejectedAsync(BadRequest request)
    {
        var (status, body, text) = await Json.PostAsync(_server.Client, request.Path, request.Body);
        AssertError(status, body, text, request.Status, request.Fragments);
    }

    internal static void AssertError(int status, JsonNode? body, string text, int expectedStatus, params string[] fragments)
    {
        Assert.True(status == expectedStatus, $"expected HTTP {expectedStatus} but got {status}: {text}");
        var message = body?["error"]?.GetValue<string>();
        Assert.True(message is not null, $"expected a body {{\"error\": \"...\"}} but got: {text}");
        foreach (var fragment in fragments)
        {
            Assert.True(message.Contains(fragment, StringComparison.Ordinal), $"expected the error to contain {fragment} but it was: {message}");
        }
    }

    private static string MnistRows(int count) => new JsonObject { ["instances"] = Json.Matrix(TestData.MnistRows(count)) }.ToJsonString();

    private static string OneMnistRow() => MnistRows(1);

    private static string MnistRowOfLength(int length) =>
        new JsonObject { ["instances"] = Json.Matrix([TestData.MnistRows(1)[0][..length]]) }.ToJsonString();

    private static string MnistRowWithFirstValue(string rawValue)
    {
        var row = TestData.MnistRows(1)[0];
        return $$"""{"instances": [[{{rawValue}}, {{string.Join(", ", row[1..].Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}}]]}""";
    }

    private static string RaggedMnistRows()
    {
        var rows = TestData.MnistRows(2);
        return new JsonObject { ["instances"] = Json.Matrix([rows[0], rows[1][..783]]) }.ToJsonString();
    }

    private sealed record BadRequest(string Path, string Body, int Status, params string[] Fragments);
}
