using Google.Protobuf;
using Grpc.Core;
using ServingStack.Tests.Fixtures;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>Every way a Predict can be wrong, with TF Serving's status code and a message that names the fault.</summary>
public sealed class TfServingGrpcErrorTests : IAsyncLifetime
{
    private readonly TempModelRepository _repo = new();
    // Unique: the metrics recorder tells servers apart by model name, and test classes run in parallel.
    private readonly string _counted = "counted_" + Guid.NewGuid().ToString("N")[..8];
    private InferenceServer _server = null!;
    private PredictionService.PredictionServiceClient _client = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        _repo.AddVersion("u8", 1, ModelFactory.CreateIdentity(FixtureElementType.UInt8, 3));
        _repo.AddVersion("text", 1, ModelFactory.CreateIdentity(FixtureElementType.String, 3));
        _repo.AddMlp(_counted, 1, seed: MlpWeights.DefaultSeed);
        var config = _repo.WriteConfig("models.json", $$"""
            { "model_config_list": [
                { "name": "{{_counted}}", "base_path": "{{_counted}}" },
                { "name": "mnist", "base_path": "mnist", "version_labels": { "stable": 1 } },
                { "name": "multi", "base_path": "multi" },
                { "name": "u8", "base_path": "u8" },
                { "name": "text", "base_path": "text" } ] }
            """);
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        _client = new PredictionService.PredictionServiceClient(_server.GrpcChannel);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task Predict_without_a_model_spec_is_INVALID_ARGUMENT()
    {
        var request = new PredictRequest();
        request.Inputs.Add("x", Row());
        await RpcAssert.FailsAsync(_client.PredictAsync(request), StatusCode.InvalidArgument, "Missing ModelSpec");
    }

    [Fact]
    public async Task Predict_is_NOT_FOUND_for_an_unknown_model_version_or_label()
    {
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "nope" })), StatusCode.NotFound, "model 'nope' is not served here", "mnist");
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist", Version = 9 })), StatusCode.NotFound, "'mnist'", "version 9");
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist", VersionLabel = "canary" })), StatusCode.NotFound,
            "no version label 'canary'", "stable");
    }

    [Fact]
    public async Task Predict_with_a_signature_other_than_serving_default_is_FAILED_PRECONDITION_as_in_TF_Serving()
    {
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist", SignatureName = "classify" })), StatusCode.FailedPrecondition,
            "Serving signature key \"classify\" not found", "serving_default");
    }

    [Fact]
    public async Task Predict_with_the_wrong_or_an_unsupported_dtype_is_INVALID_ARGUMENT()
    {
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" },
            TfTensors.Content(DataType.DtDouble, new double[784], 1, 784))), StatusCode.InvalidArgument, "input 'x'", "FP64", "FP32");

        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" },
            new TensorProto { Dtype = DataType.DtComplex64, TensorShape = TfTensors.Shape(1, 784) })), StatusCode.InvalidArgument, "input 'x'", "DT_COMPLEX64 is not supported", "DT_FLOAT");

        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" },
            new TensorProto { TensorShape = TfTensors.Shape(1, 784) })), StatusCode.InvalidArgument, "input 'x'", "dtype is not set");
    }

    [Fact]
    public async Task Predict_with_a_shape_the_model_does_not_take_is_INVALID_ARGUMENT()
    {
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" },
            TfTensors.Content(DataType.DtFloat, new float[783], 1, 783))), StatusCode.InvalidArgument, "'x'", "[1,783]", "784");

        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" },
            new TensorProto { Dtype = DataType.DtFloat, TensorShape = new TensorShapeProto { UnknownRank = true } })), StatusCode.InvalidArgument, "'x'", "unknown_rank");

        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" },
            TfTensors.Floats([1], -1, 784))), StatusCode.InvalidArgument, "'x'", "negative dimension");
    }

    [Fact]
    public async Task Predict_with_tensor_content_of_the_wrong_length_is_INVALID_ARGUMENT_naming_both_sizes()
    {
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" },
            TfTensors.Content(DataType.DtFloat, new float[784], 2, 784))), StatusCode.InvalidArgument, "input 'x'", "3136 bytes", "6272 bytes");
    }

    [Fact]
    public async Task Predict_with_values_in_the_wrong_field_or_of_the_wrong_count_is_INVALID_ARGUMENT()
    {
        var both = TfTensors.Content(DataType.DtFloat, new float[784], 1, 784);
        both.FloatVal.Add(1f);
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" }, both)), StatusCode.InvalidArgument, "both tensor_content and typed values", "1 in float_val");

        var wrongField = new TensorProto { Dtype = DataType.DtFloat, TensorShape = TfTensors.Shape(1, 784), DoubleVal = { new double[784] } };
        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" }, wrongField)), StatusCode.InvalidArgument, "784 in double_val", "DT_FLOAT values go in float_val");

        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" }, TfTensors.Floats(new float[10], 1, 784))),
            StatusCode.InvalidArgument, "holds 784 DT_FLOAT values but float_val has 10");

        await RpcAssert.FailsAsync(_client.PredictAsync(Mnist(new ModelSpec { Name = "mnist" }, new TensorProto { Dtype = DataType.DtFloat, TensorShape = TfTensors.Shape(1, 784) })),
            StatusCode.InvalidArgument, "none were sent");

        var text = new PredictRequest { ModelSpec = new ModelSpec { Name = "text" } };
        text.Inputs.Add("x", TfTensors.Content(DataType.DtString, new byte[3], 1, 3));
        await RpcAssert.FailsAsync(_client.PredictAsync(text), StatusCode.InvalidArgument, "DT_STRING values travel in string_val");
    }

    [Fact]
    public async Task Predict_with_values_outside_a_narrow_dtype_or_strings_that_are_not_UTF8_is_INVALID_ARGUMENT()
    {
        var narrow = new PredictRequest { ModelSpec = new ModelSpec { Name = "u8" } };
        narrow.Inputs.Add("x", new TensorProto { Dtype = DataType.DtUint8, TensorShape = TfTensors.Shape(1, 3), IntVal = { 1, 256, 3 } });
        await RpcAssert.FailsAsync(_client.PredictAsync(narrow), StatusCode.InvalidArgument, "int_val element 1 is 256", "0..255");

        var text = new PredictRequest { ModelSpec = new ModelSpec { Name = "text" } };
        text.Inputs.Add("x", new TensorProto { Dtype = DataType.DtString, TensorShape = TfTensors.Shape(1, 3), StringVal = { ByteString.CopyFromUtf8("ok"), ByteString.CopyFrom(0xff), ByteString.Empty } });
        await RpcAssert.FailsAsync(_client.PredictAsync(text), StatusCode.InvalidArgument, "element 1", "UTF-8");
    }

    [Fact]
    public async Task Predict_with_an_unknown_or_missing_input_or_output_is_INVALID_ARGUMENT()
    {
        var unknown = new PredictRequest { ModelSpec = new ModelSpec { Name = "multi" } };
        unknown.Inputs.Add("a", TfTensors.Floats([1, 2, 3], 1, 3));
        unknown.Inputs.Add("c", TfTensors.Floats([1, 2, 3], 1, 3));
        await RpcAssert.FailsAsync(_client.PredictAsync(unknown), StatusCode.InvalidArgument, "unknown input 'c'", "'a'", "'b'");

        var missing = new PredictRequest { ModelSpec = new ModelSpec { Name = "multi" } };
        missing.Inputs.Add("a", TfTensors.Floats([1, 2, 3], 1, 3));
        await RpcAssert.FailsAsync(_client.PredictAsync(missing), StatusCode.InvalidArgument, "missing input 'b'");

        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "multi" }, OutputFilter = { "quotient" } };
        request.Inputs.Add("a", TfTensors.Floats([1, 2, 3], 1, 3));
        request.Inputs.Add("b", TfTensors.Floats([1, 2, 3], 1, 3));
        await RpcAssert.FailsAsync(_client.PredictAsync(request), StatusCode.InvalidArgument, "unknown output 'quotient'", "'sum'", "'product'");

        request.OutputFilter.Clear();
        request.OutputFilter.Add(["sum", "sum"]);
        await RpcAssert.FailsAsync(_client.PredictAsync(request), StatusCode.InvalidArgument, "duplicate output tensor alias: sum");
    }

    [Fact]
    public async Task Predict_errors_are_counted_under_the_status_they_answered()
    {
        using var metrics = new MetricsRecorder(_counted);
        await Assert.ThrowsAsync<RpcException>(() => _client.PredictAsync(Mnist(new ModelSpec { Name = _counted, SignatureName = "other" })).ResponseAsync);
        await Assert.ThrowsAsync<RpcException>(() => _client.PredictAsync(Mnist(new ModelSpec { Name = _counted }, TfTensors.Floats([1, 2], 1, 784))).ResponseAsync);

        Assert.Equal(["FAILED_PRECONDITION", "INVALID_ARGUMENT"],
            metrics.Measurements.Where(m => m.Instrument == "servingstack.requests" && m.Tags["protocol"] == "tfserving_grpc").Select(m => m.Tags["status"]));
    }

    [Fact]
    public async Task Predict_into_a_full_batch_queue_is_RESOURCE_EXHAUSTED_at_once_and_the_queued_calls_still_answer()
    {
        using var repo = new TempModelRepository();
        repo.AddMlp("queued", 1, seed: MlpWeights.DefaultSeed);
        var config = repo.WriteConfig("models.json", """
            { "model_config_list": [ { "name": "queued", "base_path": "queued",
              "batching": { "max_batch_size": 4, "max_enqueued_batches": 1, "batch_timeout_micros": 60000000, "num_batch_threads": 1 } } ] }
            """);
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        var client = new PredictionService.PredictionServiceClient(server.GrpcChannel);
        PredictRequest Rows(float[][] rows)
        {
            var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "queued" } };
            request.Inputs.Add("x", TfTensors.Content(DataType.DtFloat, rows.SelectMany(r => r).ToArray(), rows.Length, MlpWeights.InputSize));
            return request;
        }

        var waiting = TestData.MnistRows(3, seed: 2);
        var pending = client.PredictAsync(Rows(waiting)).ResponseAsync;
        await Eventually.TrueAsync(() => server.Models.Models[0].Versions[0].Batcher!.QueuedRows == 3, "the first call to be queued");

        await RpcAssert.FailsAsync(client.PredictAsync(Rows(TestData.MnistRows(2, seed: 3))), StatusCode.ResourceExhausted, "batch queue", "full");

        var filler = TestData.MnistRows(1, seed: 4);
        var filled = await client.PredictAsync(Rows(filler));
        TfServingGrpcPredictTests.AssertMatchesReference(MlpWeights.DefaultSeed, filler, filled.Outputs["probabilities"].FloatVal.ToArray());
        TfServingGrpcPredictTests.AssertMatchesReference(MlpWeights.DefaultSeed, waiting, (await pending).Outputs["probabilities"].FloatVal.ToArray());
    }

    private static TensorProto Row() => TfTensors.Content(DataType.DtFloat, TestData.MnistRows(1)[0], 1, MlpWeights.InputSize);

    private static PredictRequest Mnist(ModelSpec spec, TensorProto? input = null)
    {
        var request = new PredictRequest { ModelSpec = spec };
        request.Inputs.Add(ModelFactory.MlpInputName, input ?? Row());
        return request;
    }
}
