using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.TfServing;

public sealed class TfServingMetadataTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Metadata_describes_the_signature_like_TF_Serving()
    {
        _repo.AddMlp("mnist", 3, seed: 1);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");

        var (status, body, text) = await Json.GetAsync(server.Client, "/v1/models/mnist/versions/3/metadata");
        Assert.True(status == 200, text);
        Assert.Equal("mnist", body!["model_spec"]!["name"]!.GetValue<string>());
        Assert.Equal("3", body["model_spec"]!["version"]!.GetValue<string>());
        var signature = body["metadata"]!["signature_def"]!["signature_def"]!["serving_default"]!;
        Assert.Equal("tensorflow/serving/predict", signature["method_name"]!.GetValue<string>());
        var input = signature["inputs"]!["x"]!;
        Assert.Equal("DT_FLOAT", input["dtype"]!.GetValue<string>());
        Assert.Equal(["-1", "784"], input["tensor_shape"]!["dim"]!.AsArray().Select(d => d!["size"]!.GetValue<string>()));
        var output = signature["outputs"]!["probabilities"]!;
        Assert.Equal(["-1", "10"], output["tensor_shape"]!["dim"]!.AsArray().Select(d => d!["size"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Status_of_an_unknown_model_or_version_is_404_with_a_message()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");

        var (status, body, _) = await Json.GetAsync(server.Client, "/v1/models/other");
        Assert.Equal(404, status);
        Assert.Contains("model 'other' is not served here (models: mnist)", body!["error"]!.GetValue<string>());

        (status, body, _) = await Json.GetAsync(server.Client, "/v1/models/mnist/versions/9");
        Assert.Equal(404, status);
        Assert.Contains("could not find version 9 of model 'mnist'", body!["error"]!.GetValue<string>());
    }
}
