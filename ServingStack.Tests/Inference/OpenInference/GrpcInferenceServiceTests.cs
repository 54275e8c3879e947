using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.DependencyInjection;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;
using InputTensor = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferRequest.Types.InferInputTensor;
using RequestedOutput = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferRequest.Types.InferRequestedOutputTensor;

namespace ServingStack.Tests.Inference.OpenInference;

/// <summary>The Open Inference gRPC service over a real h2c channel, against real ONNX Runtime sessions.</summary>
public sealed class GrpcInferenceServiceTests : IAsyncLifetime
{
    private const int IdentityWidth = 3;
    private const string StringModel = "identity_string";
    private const string HalfModel = "identity_float16";
    private const string UInt8Model = "identity_uint8";

    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;
    private GRPCInferenceService.GRPCInferenceServiceClient _client = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        _repo.AddVersion("int64", 1, ModelFactory.CreateInt64Model());
        _repo.AddVersion(StringModel, 1, ModelFactory.CreateIdentity(FixtureElementType.String, IdentityWidth));
        _repo.AddVersion(HalfModel, 1, ModelFactory.CreateIdentity(FixtureElementType.Float16, IdentityWidth));
        _repo.AddVersion(UInt8Model, 1, ModelFactory.CreateIdentity(FixtureElementType.UInt8, IdentityWidth));
        string[] names = ["mnist", "multi", "int64", StringModel, HalfModel, UInt8Model];
        var config = _repo.WriteConfig("models.json",
            $$"""{ "model_config_list": [ {{string.Join(", ", names.Select(n => $$"""{ "name": "{{n}}", "base_path": "{{n}}" }"""))}} ] }""");
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        _client = new GRPCInferenceService.GRPCInferenceServiceClient(_server.GrpcChannel);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task Server_live_and_ready_are_true_once_models_are_loaded()
    {
        Assert.True((await _client.ServerLiveAsync(new ServerLiveRequest())).Live);
        Assert.True((await _client.ServerReadyAsync(new ServerReadyRequest())).Ready);
    }

    [Fact]
    public async Task Model_ready_is_true_for_the_newest_and_a_numbered_version()
    {
        Assert.True((await _client.ModelReadyAsync(new ModelReadyRequest { Name = "mnist" })).Ready);
        Assert.True((await _client.ModelReadyAsync(new ModelReadyRequest { Name = "mnist", Version = "1" })).Ready);
    }

    [Fact]
    public async Task Model_ready_is_NOT_FOUND_for_an_unknown_model_or_version_and_INVALID_ARGUMENT_for_a_non_numeric_version()
    {
        await AssertRpcErrorAsync(_client.ModelReadyAsync(new ModelReadyRequest { Name = "nope" }).ResponseAsync, StatusCode.NotFound, "'nope'", "mnist");
        await AssertRpcErrorAsync(_client.ModelReadyAsync(new ModelReadyRequest { Name = "mnist", Version = "7" }).ResponseAsync, StatusCode.NotFound, "version 7");
        await AssertRpcErrorAsync(_client.ModelReadyAsync(new ModelReadyRequest { Name = "mnist", Version = "latest" }).ResponseAsync, StatusCode.InvalidArgument, "'latest'", "positive integer");
    }

    [Fact]
    public async Task Server_metadata_names_the_server()
    {
        var metadata = await _client.ServerMetadataAsync(new ServerMetadataRequest());
        Assert.Equal("servingstack", metadata.Name);
        Assert.False(string.IsNullOrEmpty(metadata.Version));
    }

    [Fact]
    public async Task Model_metadata_matches_the_REST_metadata()
    {
        foreach (var version in new[] { string.Empty, "1" })
        {
            var metadata = await _client.ModelMetadataAsync(new ModelMetadataRequest { Name = "mnist", Version = version });
            var (status, rest, text) = await Json.GetAsync(_server.Client, "/v2/models/mnist");
            Assert.True(status == 200, text);

            Assert.Equal("mnist", metadata.Name);
            Assert.Equal(["1"], metadata.Versions);
            Assert.Equal("onnxruntime_onnx", metadata.Platform);
            Assert.Equal(rest!["platform"]!.GetValue<string>(), metadata.Platform);
            var input = Assert.Single(metadata.Inputs);
            Assert.Equal(("x", "FP32"), (input.Name, input.Datatype));
            Assert.Equal([-1L, 784], input.Shape);
            var output = Assert.Single(metadata.Outputs);
            Assert.Equal(("probabilities", "FP32"), (output.Name, output.Datatype));
            Assert.Equal([-1L, 10], output.Shape);
            Assert.Equal(Longs(rest["outputs"]![0]!["shape"]), output.Shape);
        }
    }

    [Fact]
    public async Task Model_metadata_is_NOT_FOUND_for_an_unknown_model()
    {
        await AssertRpcErrorAsync(_client.ModelMetadataAsync(new ModelMetadataRequest { Name = "nope" }).ResponseAsync, StatusCode.NotFound, "'nope'");
    }

    [Fact]
    public async Task Infer_with_typed_FP32_contents_matches_the_reference_MLP_for_every_row()
    {
        var rows = TestData.MnistRows(3, seed: 31);
        var input = Input("x", "FP32", 3, MlpWeights.InputSize);
        input.Contents = new InferTensorContents();
        input.Contents.Fp32Contents.Add(rows.SelectMany(r => r));
        var request = new ModelInferRequest { ModelName = "mnist", Id = "typed-1" };
        request.Inputs.Add(input);

        var response = await _client.ModelInferAsync(request);

        Assert.Equal(("mnist", "1", "typed-1"), (response.ModelName, response.ModelVersion, response.Id));
        Assert.Empty(response.RawOutputContents);
        var output = Assert.Single(response.Outputs);
        Assert.Equal(("probabilities", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([3L, MlpWeights.OutputSize], output.Shape);
        AssertMatchesReference(rows, output.Contents.Fp32Contents.ToArray());
    }

    [Fact]
    public async Task Infer_with_raw_contents_answers_raw_and_equals_the_reference_and_the_REST_result()
    {
        var rows = TestData.MnistRows(3, seed: 32);
        var request = new ModelInferRequest { ModelName = "mnist", ModelVersion = "1" };
        request.Inputs.Add(Input("x", "FP32", 3, MlpWeights.InputSize));
        request.RawInputContents.Add(Raw<float>(rows.SelectMany(r => r).ToArray()));

        var response = await _client.ModelInferAsync(request);

        var output = Assert.Single(response.Outputs);
        Assert.Equal(("probabilities", "FP32"), (output.Name, output.Datatype));
        Assert.Equal([3L, MlpWeights.OutputSize], output.Shape);
        Assert.Null(output.Contents);
        var values = FromRaw<float>(Assert.Single(response.RawOutputContents));
        AssertMatchesReference(rows, values);

        var (status, body, text) = await Json.PostAsync(_server.Client, "/v2/models/mnist/versions/1/infer", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "x", ["shape"] = new JsonArray(3, 784), ["datatype"] = "FP32", ["data"] = Json.Matrix(rows) }),
        });
        Assert.True(status == 200, text);
        Assert.Equal(Json.Floats(body!["outputs"]![0]!["data"]), values);
    }

    [Fact]
    public async Task Infer_INT64_is_exact_typed_and_raw()
    {
        long[] ids = [0, 1, -1, 123_456_789_012, -(1L << 40), long.MaxValue / 2, long.MinValue / 2, 42];
        var expected = ids.Select(v => v * 2).ToArray();

        var typed = new ModelInferRequest { ModelName = "int64" };
        var input = Input(ModelFactory.Int64InputName, "INT64", 2, ModelFactory.Int64Width);
        input.Contents = new InferTensorContents();
        input.Contents.Int64Contents.Add(ids);
        typed.Inputs.Add(input);
        var response = await _client.ModelInferAsync(typed);
        var output = Assert.Single(response.Outputs);
        Assert.Equal((ModelFactory.Int64OutputName, "INT64"), (output.Name, output.Datatype));
        Assert.Equal(expected, output.Contents.Int64Contents);

        var raw = new ModelInferRequest { ModelName = "int64" };
        raw.Inputs.Add(Input(ModelFactory.Int64InputName, "INT64", 2, ModelFactory.Int64Width));
        raw.RawInputContents.Add(Raw<long>(ids));
        response = await _client.ModelInferAsync(raw);
        Assert.Equal(expected, FromRaw<long>(Assert.Single(response.RawOutputContents)));
    }

    [Fact]
    public async Task Infer_BYTES_round_trips_raw_and_typed()
    {
        string[] values = ["hello", "", "naïve ☃", "a,b", "quote\"d", "tab\t"];

        var raw = new ModelInferRequest { ModelName = StringModel };
        raw.Inputs.Add(Input("x", "BYTES", 2, IdentityWidth));
        raw.RawInputContents.Add(RawStrings(values));
        var response = await _client.ModelInferAsync(raw);
        var output = Assert.Single(response.Outputs);
        Assert.Equal(("y", "BYTES"), (output.Name, output.Datatype));
        Assert.Equal([2L, IdentityWidth], output.Shape);
        Assert.Equal(values, FromRawStrings(Assert.Single(response.RawOutputContents)));

        var typed = new ModelInferRequest { ModelName = StringModel };
        var input = Input("x", "BYTES", 2, IdentityWidth);
        input.Contents = new InferTensorContents();
        input.Contents.BytesContents.Add(values.Select(ByteString.CopyFromUtf8));
        typed.Inputs.Add(input);
        response = await _client.ModelInferAsync(typed);
        Assert.Empty(response.RawOutputContents);
        Assert.Equal(values, Assert.Single(response.Outputs).Contents.BytesContents.Select(b => b.ToStringUtf8()));
    }

    [Fact]
    public async Task Infer_FP16_round_trips_raw()
    {
        Half[] values = [(Half)0.5, (Half)(-2), (Half)1024, Half.MaxValue, (Half)0.0009765625, (Half)(-0.25)];
        var request = new ModelInferRequest { ModelName = HalfModel };
        request.Inputs.Add(Input("x", "FP16", 2, IdentityWidth));
        request.RawInputContents.Add(Raw<Half>(values));

        var response = await _client.ModelInferAsync(request);

        var output = Assert.Single(response.Outputs);
        Assert.Equal(("y", "FP16"), (output.Name, output.Datatype));
        Assert.Equal(values, FromRaw<Half>(Assert.Single(response.RawOutputContents)));
    }

    [Fact]
    public async Task Infer_FP16_in_typed_contents_is_INVALID_ARGUMENT_pointing_to_raw_contents()
    {
        var request = new ModelInferRequest { ModelName = HalfModel };
        var input = Input("x", "FP16", 1, IdentityWidth);
        input.Contents = new InferTensorContents();
        input.Contents.Fp32Contents.Add([1f, 2f, 3f]);
        request.Inputs.Add(input);

        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "'x'", "FP16", "raw_input_contents");
    }

    [Fact]
    public async Task Infer_returns_only_the_requested_outputs()
    {
        var request = new ModelInferRequest { ModelName = "multi" };
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputA, [1, 2, 3, -1, 0.5f, 2]));
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputB, [4, 5, 6, 2, 2, -3]));
        request.Outputs.Add(new RequestedOutput { Name = ModelFactory.MultiOutputProduct });

        var response = await _client.ModelInferAsync(request);

        var output = Assert.Single(response.Outputs);
        Assert.Equal(ModelFactory.MultiOutputProduct, output.Name);
        Assert.Equal([2L, 3], output.Shape);
        Assert.Equal([4f, 10, 18, -2, 1, -6], output.Contents.Fp32Contents);
    }

    [Fact]
    public async Task Infer_with_a_deadline_still_answers()
    {
        var request = new ModelInferRequest { ModelName = "multi" };
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputA, [1, 2, 3, 4, 5, 6]));
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputB, [1, 1, 1, 1, 1, 1]));

        var response = await _client.ModelInferAsync(request, deadline: DateTime.UtcNow.AddSeconds(30));

        Assert.Equal([2f, 3, 4, 5, 6, 7], response.Outputs.Single(o => o.Name == ModelFactory.MultiOutputSum).Contents.Fp32Contents);
    }

    [Fact]
    public async Task Infer_is_NOT_FOUND_for_an_unknown_model_or_version()
    {
        var request = MnistRaw(1);
        request.ModelName = "nope";
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.NotFound, "'nope'", "mnist");

        request = MnistRaw(1);
        request.ModelVersion = "7";
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.NotFound, "'mnist'", "version 7");
    }

    [Fact]
    public async Task Infer_is_INVALID_ARGUMENT_for_a_non_numeric_version()
    {
        var request = MnistRaw(1);
        request.ModelVersion = "latest";
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "model_version 'latest'", "positive integer");
    }

    [Fact]
    public async Task Infer_is_INVALID_ARGUMENT_when_raw_and_typed_contents_are_mixed()
    {
        var request = new ModelInferRequest { ModelName = "multi" };
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputA, [1, 2, 3, 4, 5, 6]));
        request.Inputs.Add(Input(ModelFactory.MultiInputB, "FP32", 2, 3));
        request.RawInputContents.Add(Raw<float>([1, 2, 3, 4, 5, 6]));
        request.RawInputContents.Add(Raw<float>([1, 2, 3, 4, 5, 6]));

        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "input 'a'", "raw_input_contents", "contents");
    }

    [Fact]
    public async Task Infer_is_INVALID_ARGUMENT_naming_the_input_when_the_raw_byte_length_is_wrong()
    {
        var request = new ModelInferRequest { ModelName = "mnist" };
        request.Inputs.Add(Input("x", "FP32", 2, MlpWeights.InputSize));
        request.RawInputContents.Add(Raw<float>(new float[MlpWeights.InputSize]));

        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "input 'x'", "3136 bytes", "6272 bytes");
    }

    [Fact]
    public async Task Infer_is_INVALID_ARGUMENT_when_raw_entries_and_inputs_differ_in_number()
    {
        var request = MnistRaw(1);
        request.RawInputContents.Add(ByteString.Empty);

        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "2 entries", "1 inputs");
    }

    [Fact]
    public async Task Infer_is_INVALID_ARGUMENT_when_the_shape_does_not_fit_the_model()
    {
        var request = new ModelInferRequest { ModelName = "mnist" };
        request.Inputs.Add(Input("x", "FP32", 1, 783));
        request.RawInputContents.Add(Raw<float>(new float[783]));

        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "'x'", "[1,783]", "784");
    }

    [Fact]
    public async Task Infer_is_INVALID_ARGUMENT_when_typed_contents_do_not_fill_the_shape_or_use_the_wrong_field()
    {
        var request = new ModelInferRequest { ModelName = "multi" };
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputA, [1, 2, 3]));
        request.Inputs[0].Shape[0] = 2;
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputB, [1, 2, 3]));
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "input 'a'", "[2,3]", "6 FP32", "fp32_contents has 3");

        request = new ModelInferRequest { ModelName = "multi" };
        var wrongField = Input(ModelFactory.MultiInputA, "FP32", 1, 3);
        wrongField.Contents = new InferTensorContents();
        wrongField.Contents.Fp64Contents.Add([1.0, 2, 3]);
        request.Inputs.Add(wrongField);
        request.Inputs.Add(TypedFloats(ModelFactory.MultiInputB, [1, 2, 3]));
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "input 'a'", "fp64_contents", "fp32_contents");
    }

    [Fact]
    public async Task Infer_is_INVALID_ARGUMENT_for_values_outside_a_narrow_datatype_and_for_malformed_BYTES()
    {
        var request = new ModelInferRequest { ModelName = UInt8Model };
        var input = Input("x", "UINT8", 1, IdentityWidth);
        input.Contents = new InferTensorContents();
        input.Contents.UintContents.Add([1u, 256u, 3u]);
        request.Inputs.Add(input);
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "input 'x'", "element 1 is 256", "0..255");

        request = new ModelInferRequest { ModelName = StringModel };
        request.Inputs.Add(Input("x", "BYTES", 1, IdentityWidth));
        var truncated = RawStrings(["a", "b", "c"]).ToByteArray();
        BinaryPrimitives.WriteUInt32LittleEndian(truncated.AsSpan(10), 100);
        request.RawInputContents.Add(ByteString.CopyFrom(truncated));
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "input 'x'", "BYTES element 2", "length prefix of 100");

        request = new ModelInferRequest { ModelName = StringModel };
        var notUtf8 = Input("x", "BYTES", 1, IdentityWidth);
        notUtf8.Contents = new InferTensorContents();
        notUtf8.Contents.BytesContents.Add([ByteString.CopyFromUtf8("ok"), ByteString.CopyFrom(0xff, 0xfe), ByteString.Empty]);
        request.Inputs.Add(notUtf8);
        await AssertRpcErrorAsync(_client.ModelInferAsync(request).ResponseAsync, StatusCode.InvalidArgument, "input 'x'", "element 1", "UTF-8");
    }

    [Fact]
    public async Task Infer_counts_each_request_by_model_version_protocol_and_status()
    {
        var meter = _server.Services.GetRequiredService<ServingMetrics>().Meter;
        var recorded = new ConcurrentQueue<(string Model, string Version, string Protocol, string Status)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "servingstack.requests")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var values = new Dictionary<string, string>();
            foreach (var tag in tags)
            {
                values[tag.Key] = (string)tag.Value!;
            }

            recorded.Enqueue((values["model"], values["version"], values["protocol"], values["status"]));
        });
        listener.Start();

        await _client.ModelInferAsync(MnistRaw(1));
        var bad = MnistRaw(1);
        bad.RawInputContents[0] = ByteString.CopyFrom(1, 2, 3);
        await Assert.ThrowsAsync<RpcException>(() => _client.ModelInferAsync(bad).ResponseAsync);
        var unknown = MnistRaw(1);
        unknown.ModelName = "made-up";
        await Assert.ThrowsAsync<RpcException>(() => _client.ModelInferAsync(unknown).ResponseAsync);

        Assert.Equal(
            [("mnist", "1", "grpc", "OK"), ("mnist", "1", "grpc", "INVALID_ARGUMENT"), (string.Empty, string.Empty, "grpc", "NOT_FOUND")],
            recorded.ToArray());
    }

    [Fact]
    public async Task Grpc_health_check_is_SERVING_once_models_are_loaded()
    {
        var health = new Health.HealthClient(_server.GrpcChannel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = "inference.GRPCInferenceService" })).Status);
    }

    [Fact]
    public async Task Reflection_lists_the_inference_service()
    {
        var reflection = new ServerReflection.ServerReflectionClient(_server.GrpcChannel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty });
        await call.RequestStream.CompleteAsync();

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToArray();
        Assert.Contains("inference.GRPCInferenceService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    private static InputTensor Input(string name, string datatype, params long[] shape)
    {
        var input = new InputTensor { Name = name, Datatype = datatype };
        input.Shape.Add(shape);
        return input;
    }

    private static InputTensor TypedFloats(string name, float[] values)
    {
        var input = Input(name, "FP32", values.Length / 3, 3);
        input.Contents = new InferTensorContents();
        input.Contents.Fp32Contents.Add(values);
        return input;
    }

    private static ModelInferRequest MnistRaw(int rows)
    {
        var request = new ModelInferRequest { ModelName = "mnist" };
        request.Inputs.Add(Input("x", "FP32", rows, MlpWeights.InputSize));
        request.RawInputContents.Add(Raw<float>(TestData.MnistRows(rows).SelectMany(r => r).ToArray()));
        return request;
    }

    private static ByteString Raw<T>(T[] values) where T : unmanaged => ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));

    private static T[] FromRaw<T>(ByteString raw) where T : unmanaged => MemoryMarshal.Cast<byte, T>(raw.Span).ToArray();

    private static ByteString RawStrings(string[] values)
    {
        using var stream = new MemoryStream();
        Span<byte> prefix = stackalloc byte[4];
        foreach (var value in values)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)bytes.Length);
            stream.Write(prefix);
            stream.Write(bytes);
        }

        return ByteString.CopyFrom(stream.ToArray());
    }

    private static string[] FromRawStrings(ByteString raw)
    {
        var values = new List<string>();
        var span = raw.Span;
        while (span.Length > 0)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(span);
            values.Add(Encoding.UTF8.GetString(span.Slice(4, length)));
            span = span[(4 + length)..];
        }

        return [.. values];
    }

    private static void AssertMatchesReference(float[][] rows, float[] values)
    {
        Assert.Equal(rows.Length * MlpWeights.OutputSize, values.Length);
        var weights = MlpWeights.Create(MlpWeights.DefaultSeed);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), values.AsSpan(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
        }
    }

    private static async Task AssertRpcErrorAsync<T>(Task<T> call, StatusCode expected, params string[] fragments)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => call);
        Assert.True(ex.StatusCode == expected, $"expected {expected} but got {ex.StatusCode}: {ex.Status.Detail}");
        foreach (var fragment in fragments)
        {
            Assert.True(ex.Status.Detail.Contains(fragment, StringComparison.Ordinal), $"expected the error to contain {fragment} but it was: {ex.Status.Detail}");
        }
    }

    private static long[] Longs(JsonNode? node) => node!.AsArray().Select(v => v!.GetValue<long>()).ToArray();
}
