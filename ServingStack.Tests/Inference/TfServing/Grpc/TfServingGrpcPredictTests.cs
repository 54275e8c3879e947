using Google.Protobuf;
using Grpc.Core;
using ServingStack.Tests.Fixtures;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>
/// TF Serving's Predict over a real h2c channel, with the client generated from the TF Serving protos, against real ONNX
/// Runtime sessions; numbers are checked element by element against an independent reference.
/// </summary>
public sealed class TfServingGrpcPredictTests : IAsyncLifetime
{
    private const int Width = 3;
    private const int StableSeed = 42;
    private const int CanarySeed = 7;

    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;
    private PredictionService.PredictionServiceClient _client = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: StableSeed);
        _repo.AddMlp("mnist", 2, seed: CanarySeed);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        _repo.AddVersion("ids", 1, ModelFactory.CreateInt64Model());
        (string Name, FixtureElementType Type)[] identities =
        [
            ("f32", FixtureElementType.Float), ("f64", FixtureElementType.Double), ("i32", FixtureElementType.Int32),
            ("f16", FixtureElementType.Float16), ("u8", FixtureElementType.UInt8), ("flags", FixtureElementType.Bool),
            ("text", FixtureElementType.String),
        ];
        foreach (var (name, type) in identities)
        {
            _repo.AddVersion(name, 1, ModelFactory.CreateIdentity(type, Width));
        }

        var others = string.Join(", ", new[] { "multi", "ids" }.Concat(identities.Select(i => i.Name)).Select(n => $$"""{ "name": "{{n}}", "base_path": "{{n}}" }"""));
        var config = _repo.WriteConfig("models.json", $$"""
            { "model_config_list": [
                { "name": "mnist", "base_path": "mnist", "model_version_policy": { "all": {} }, "version_labels": { "stable": 1, "canary": 2 } },
                {{others}} ] }
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
    public async Task Predict_with_tensor_content_matches_the_reference_MLP_for_every_row_and_echoes_the_spec_that_served()
    {
        var rows = TestData.MnistRows(3, seed: 21);
        var request = Mnist(new ModelSpec { Name = "mnist" }, TfTensors.Content(DataType.DtFloat, rows.SelectMany(r => r).ToArray(), 3, MlpWeights.InputSize));

        var response = await _client.PredictAsync(request);

        Assert.Equal(("mnist", 2L, "serving_default"), (response.ModelSpec.Name, response.ModelSpec.Version, response.ModelSpec.SignatureName));
        var output = Assert.Single(response.Outputs);
        Assert.Equal(ModelFactory.MlpOutputName, output.Key);
        Assert.Equal(DataType.DtFloat, output.Value.Dtype);
        Assert.Equal([3L, MlpWeights.OutputSize], TfTensors.Dims(output.Value));
        // TF Serving answers in the typed field (Tensor::AsProtoField), not in tensor_content.
        Assert.True(output.Value.TensorContent.IsEmpty);
        AssertMatchesReference(CanarySeed, rows, output.Value.FloatVal.ToArray());
    }

    [Fact]
    public async Task Predict_with_float_val_answers_exactly_what_tensor_content_does()
    {
        var rows = TestData.MnistRows(2, seed: 22);
        var flat = rows.SelectMany(r => r).ToArray();
        var spec = new ModelSpec { Name = "mnist", Version = 1 };

        var typed = await _client.PredictAsync(Mnist(spec, TfTensors.Floats(flat, 2, MlpWeights.InputSize)));
        var raw = await _client.PredictAsync(Mnist(spec, TfTensors.Content(DataType.DtFloat, flat, 2, MlpWeights.InputSize)));

        var values = typed.Outputs[ModelFactory.MlpOutputName].FloatVal.ToArray();
        AssertMatchesReference(StableSeed, rows, values);
        Assert.Equal(values, raw.Outputs[ModelFactory.MlpOutputName].FloatVal.ToArray());
    }

    [Fact]
    public async Task Predict_pins_a_version_by_number_or_by_label()
    {
        var rows = TestData.MnistRows(1, seed: 23);
        var input = TfTensors.Content(DataType.DtFloat, rows[0], 1, MlpWeights.InputSize);
        (ModelSpec Spec, long Version, int Seed)[] cases =
        [
            (new ModelSpec { Name = "mnist", Version = 1 }, 1, StableSeed),
            (new ModelSpec { Name = "mnist", Version = 2 }, 2, CanarySeed),
            (new ModelSpec { Name = "mnist", VersionLabel = "stable" }, 1, StableSeed),
            (new ModelSpec { Name = "mnist", VersionLabel = "canary", SignatureName = "serving_default" }, 2, CanarySeed),
        ];

        foreach (var (spec, version, seed) in cases)
        {
            var response = await _client.PredictAsync(Mnist(spec, input));
            Assert.Equal(version, response.ModelSpec.Version);
            AssertMatchesReference(seed, rows, response.Outputs[ModelFactory.MlpOutputName].FloatVal.ToArray());
        }
    }

    [Fact]
    public async Task Predict_round_trips_every_dtype_through_its_typed_field()
    {
        double[] doubles = [0.5, -1e300, 3.25, double.Epsilon, -0.0, 7];
        var f64 = await Identity("f64", new TensorProto { Dtype = DataType.DtDouble, TensorShape = TfTensors.Shape(2, Width), DoubleVal = { doubles } });
        Assert.Equal(DataType.DtDouble, f64.Dtype);
        Assert.Equal(doubles, f64.DoubleVal);

        int[] ints = [int.MinValue, -1, 0, 1, 123456789, int.MaxValue];
        var i32 = await Identity("i32", new TensorProto { Dtype = DataType.DtInt32, TensorShape = TfTensors.Shape(2, Width), IntVal = { ints } });
        Assert.Equal(DataType.DtInt32, i32.Dtype);
        Assert.Equal(ints, i32.IntVal);

        Half[] halves = [(Half)0.5, (Half)(-2), (Half)1024, Half.MaxValue, (Half)0.0009765625, (Half)(-0.25)];
        var bits = halves.Select(h => (int)BitConverter.HalfToUInt16Bits(h)).ToArray();
        var f16 = await Identity("f16", new TensorProto { Dtype = DataType.DtHalf, TensorShape = TfTensors.Shape(2, Width), HalfVal = { bits } });
        Assert.Equal(DataType.DtHalf, f16.Dtype);
        Assert.Equal(bits, f16.HalfVal);

        int[] bytes = [0, 1, 127, 128, 254, 255];
        var u8 = await Identity("u8", new TensorProto { Dtype = DataType.DtUint8, TensorShape = TfTensors.Shape(2, Width), IntVal = { bytes } });
        Assert.Equal(DataType.DtUint8, u8.Dtype);
        Assert.Equal(bytes, u8.IntVal);

        bool[] flags = [true, false, false, true, true, false];
        var b = await Identity("flags", new TensorProto { Dtype = DataType.DtBool, TensorShape = TfTensors.Shape(2, Width), BoolVal = { flags } });
        Assert.Equal(DataType.DtBool, b.Dtype);
        Assert.Equal(flags, b.BoolVal);

        string[] strings = ["hello", "", "naïve ☃", "a,b", "quote\"d", "tab\t"];
        var text = await Identity("text", new TensorProto { Dtype = DataType.DtString, TensorShape = TfTensors.Shape(2, Width), StringVal = { strings.Select(ByteString.CopyFromUtf8) } });
        Assert.Equal(DataType.DtString, text.Dtype);
        Assert.Equal(strings, text.StringVal.Select(s => s.ToStringUtf8()));

        long[] ids = [0, 1, -1, 123_456_789_012, -(1L << 40), long.MaxValue / 2, long.MinValue / 2, 42];
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "ids" } };
        request.Inputs.Add(ModelFactory.Int64InputName, new TensorProto { Dtype = DataType.DtInt64, TensorShape = TfTensors.Shape(2, ModelFactory.Int64Width), Int64Val = { ids } });
        var doubled = (await _client.PredictAsync(request)).Outputs[ModelFactory.Int64OutputName];
        Assert.Equal(DataType.DtInt64, doubled.Dtype);
        Assert.Equal([2L, ModelFactory.Int64Width], TfTensors.Dims(doubled));
        Assert.Equal(ids.Select(v => v * 2), doubled.Int64Val);
    }

    [Fact]
    public async Task Predict_reads_tensor_content_of_every_fixed_size_dtype()
    {
        double[] doubles = [1.5, -2.25, 1e-310, 4, 5, 6];
        Assert.Equal(doubles, (await Identity("f64", TfTensors.Content(DataType.DtDouble, doubles, 2, Width))).DoubleVal);

        int[] ints = [7, -8, 9, int.MaxValue, int.MinValue, 0];
        Assert.Equal(ints, (await Identity("i32", TfTensors.Content(DataType.DtInt32, ints, 2, Width))).IntVal);

        Half[] halves = [(Half)1.5, (Half)(-3), Half.MinValue, (Half)0.125, (Half)65504, (Half)(-0.5)];
        Assert.Equal(halves.Select(h => (int)BitConverter.HalfToUInt16Bits(h)), (await Identity("f16", TfTensors.Content(DataType.DtHalf, halves, 2, Width))).HalfVal);

        byte[] bytes = [0, 9, 200, 255, 1, 2];
        Assert.Equal(bytes.Select(v => (int)v), (await Identity("u8", TfTensors.Content(DataType.DtUint8, bytes, 2, Width))).IntVal);

        byte[] flags = [1, 0, 1, 1, 0, 0];
        Assert.Equal(flags.Select(v => v == 1), (await Identity("flags", TfTensors.Content(DataType.DtBool, flags, 2, Width))).BoolVal);

        long[] ids = [5, -6, 1L << 50, 0, 1, 2, 3, 4];
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "ids" } };
        request.Inputs.Add(ModelFactory.Int64InputName, TfTensors.Content(DataType.DtInt64, ids, 2, ModelFactory.Int64Width));
        Assert.Equal(ids.Select(v => v * 2), (await _client.PredictAsync(request)).Outputs[ModelFactory.Int64OutputName].Int64Val);
    }

    [Fact]
    public async Task Predict_fills_the_shape_from_a_single_typed_value_as_TensorFlow_does()
    {
        var floats = await Identity("f32", new TensorProto { Dtype = DataType.DtFloat, TensorShape = TfTensors.Shape(2, Width), FloatVal = { 1.5f } });
        Assert.Equal(Enumerable.Repeat(1.5f, 2 * Width), floats.FloatVal);

        var strings = await Identity("text", new TensorProto { Dtype = DataType.DtString, TensorShape = TfTensors.Shape(1, Width), StringVal = { ByteString.CopyFromUtf8("same") } });
        Assert.Equal(Enumerable.Repeat("same", Width), strings.StringVal.Select(s => s.ToStringUtf8()));
    }

    [Fact]
    public async Task Predict_output_filter_returns_only_the_named_outputs()
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = "multi" }, OutputFilter = { ModelFactory.MultiOutputProduct } };
        request.Inputs.Add(ModelFactory.MultiInputA, TfTensors.Floats([1, 2, 3, -1, 0.5f, 2], 2, 3));
        request.Inputs.Add(ModelFactory.MultiInputB, TfTensors.Floats([4, 5, 6, 2, 2, -3], 2, 3));

        var filtered = await _client.PredictAsync(request);
        var product = Assert.Single(filtered.Outputs);
        Assert.Equal(ModelFactory.MultiOutputProduct, product.Key);
        Assert.Equal([4f, 10, 18, -2, 1, -6], product.Value.FloatVal);

        request.OutputFilter.Clear();
        var all = await _client.PredictAsync(request);
        Assert.Equal([ModelFactory.MultiOutputProduct, ModelFactory.MultiOutputSum], all.Outputs.Keys.Order());
        Assert.Equal([5f, 7, 9, 1, 2.5f, -1], all.Outputs[ModelFactory.MultiOutputSum].FloatVal);
    }

    [Fact]
    public async Task Predict_counts_each_request_with_the_tfserving_grpc_protocol_and_its_status()
    {
        using var metrics = new MetricsRecorder("f32");
        await Identity("f32", TfTensors.Floats([1, 2, 3], 1, Width));
        var bad = new PredictRequest { ModelSpec = new ModelSpec { Name = "f32" } };
        bad.Inputs.Add(ModelFactory.IdentityInputName, TfTensors.Floats([1, 2], 1, Width));
        await Assert.ThrowsAsync<RpcException>(() => _client.PredictAsync(bad).ResponseAsync);

        var requests = metrics.Measurements.Where(m => m.Instrument == "servingstack.requests").Select(m => (m.Tags["version"], m.Tags["protocol"], m.Tags["status"])).ToArray();
        Assert.Equal([("1", "tfserving_grpc", "OK"), ("1", "tfserving_grpc", "INVALID_ARGUMENT")], requests);
    }

    private async Task<TensorProto> Identity(string model, TensorProto input)
    {
        var request = new PredictRequest { ModelSpec = new ModelSpec { Name = model } };
        request.Inputs.Add(ModelFactory.IdentityInputName, input);
        var response = await _client.PredictAsync(request);
        var output = Assert.Single(response.Outputs);
        Assert.Equal(ModelFactory.IdentityOutputName, output.Key);
        Assert.Equal(TfTensors.Dims(input), TfTensors.Dims(output.Value));
        return output.Value;
    }

    private static PredictRequest Mnist(ModelSpec spec, TensorProto input)
    {
        var request = new PredictRequest { ModelSpec = spec };
        request.Inputs.Add(ModelFactory.MlpInputName, input);
        return request;
    }

    internal static void AssertMatchesReference(int seed, float[][] rows, float[] values)
    {
        Assert.Equal(rows.Length * MlpWeights.OutputSize, values.Length);
        var weights = MlpWeights.Create(seed);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), values.AsSpan(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
        }
    }
}
