using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using ServingStack.Inference.Protocols.TfServing.Grpc;
using ServingStack.Tests.Fixtures;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>
/// GetModelMetadata, GetModelStatus and the calls that are not served, over gRPC, and the REST metadata as the protobuf
/// JSON of the same message.
/// </summary>
public sealed class TfServingGrpcMetadataTests : IAsyncLifetime
{
    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;
    private PredictionService.PredictionServiceClient _prediction = null!;
    private ModelService.ModelServiceClient _models = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("mnist", 2, seed: 2);
        _repo.AddVersion("mnist", 3, ModelFactory.CreateCorrupt());
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        var config = _repo.WriteConfig("models.json", """
            { "model_config_list": [
                { "name": "mnist", "base_path": "mnist", "model_version_policy": { "all": {} }, "version_labels": { "stable": 1, "canary": 2 } },
                { "name": "multi", "base_path": "multi" } ] }
            """);
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
        _prediction = new PredictionService.PredictionServiceClient(_server.GrpcChannel);
        _models = new ModelService.ModelServiceClient(_server.GrpcChannel);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task GetModelMetadata_answers_the_serving_default_signature_in_a_SignatureDefMap()
    {
        var response = await _prediction.GetModelMetadataAsync(new GetModelMetadataRequest
        {
            ModelSpec = new ModelSpec { Name = "mnist", Version = 1 },
            MetadataField = { "signature_def" },
        });

        Assert.Equal(("mnist", 1L), (response.ModelSpec.Name, response.ModelSpec.Version));
        var entry = Assert.Single(response.Metadata);
        Assert.Equal("signature_def", entry.Key);
        Assert.Equal("type.googleapis.com/tensorflow.serving.SignatureDefMap", entry.Value.TypeUrl);
        var signature = Assert.Single(entry.Value.Unpack<SignatureDefMap>().SignatureDef);
        Assert.Equal("serving_default", signature.Key);
        Assert.Equal("tensorflow/serving/predict", signature.Value.MethodName);
        var input = Assert.Single(signature.Value.Inputs);
        Assert.Equal(("x", "x", DataType.DtFloat), (input.Key, input.Value.Name, input.Value.Dtype));
        Assert.Equal([-1L, 784], input.Value.TensorShape.Dim.Select(d => d.Size));
        Assert.False(input.Value.TensorShape.UnknownRank);
        var output = Assert.Single(signature.Value.Outputs);
        Assert.Equal(("probabilities", DataType.DtFloat), (output.Key, output.Value.Dtype));
        Assert.Equal([-1L, 10], output.Value.TensorShape.Dim.Select(d => d.Size));
    }

    [Fact]
    public async Task GetModelMetadata_follows_labels_and_answers_the_execution_entry_as_a_Struct()
    {
        var response = await _prediction.GetModelMetadataAsync(new GetModelMetadataRequest
        {
            ModelSpec = new ModelSpec { Name = "mnist", VersionLabel = "canary" },
            MetadataField = { "execution", "signature_def" },
        });

        Assert.Equal(2L, response.ModelSpec.Version);
        Assert.Equal(["execution", "signature_def"], response.Metadata.Keys.Order());
        var execution = response.Metadata["execution"].Unpack<Struct>();
        Assert.Equal("CPU", execution.Fields["provider"].StringValue);
        Assert.Equal("cpu", execution.Fields["requested_provider"].StringValue);
        Assert.False(execution.Fields.ContainsKey("fallback_reason"));
    }

    [Fact]
    public async Task GetModelMetadata_errors_as_TF_Serving_answers_them()
    {
        await RpcAssert.FailsAsync(_prediction.GetModelMetadataAsync(new GetModelMetadataRequest { MetadataField = { "signature_def" } }),
            StatusCode.InvalidArgument, "Missing ModelSpec");
        await RpcAssert.FailsAsync(_prediction.GetModelMetadataAsync(new GetModelMetadataRequest { ModelSpec = new ModelSpec { Name = "mnist" } }),
            StatusCode.InvalidArgument, "at least one metadata_field", "signature_def");
        await RpcAssert.FailsAsync(_prediction.GetModelMetadataAsync(new GetModelMetadataRequest { ModelSpec = new ModelSpec { Name = "mnist" }, MetadataField = { "graph" } }),
            StatusCode.InvalidArgument, "Metadata field graph is not supported");
        await RpcAssert.FailsAsync(_prediction.GetModelMetadataAsync(new GetModelMetadataRequest { ModelSpec = new ModelSpec { Name = "nope" }, MetadataField = { "signature_def" } }),
            StatusCode.NotFound, "'nope'");
        await RpcAssert.FailsAsync(_prediction.GetModelMetadataAsync(new GetModelMetadataRequest { ModelSpec = new ModelSpec { Name = "mnist", Version = 3 }, MetadataField = { "signature_def" } }),
            StatusCode.NotFound, "version 3", "END");
    }

    [Fact]
    public async Task REST_metadata_is_the_protobuf_JSON_of_the_gRPC_answer_in_TF_Servings_spelling()
    {
        var (status, _, text) = await Json.GetAsync(_server.Client, "/v1/models/mnist/versions/1/metadata");
        Assert.True(status == 200, text);

        // Parses into the published message with Google.Protobuf's own parser, unknown fields refused.
        var parser = new JsonParser(JsonParser.Settings.Default.WithTypeRegistry(TypeRegistry.FromMessages(SignatureDefMap.Descriptor, Struct.Descriptor)));
        var rest = parser.Parse<GetModelMetadataResponse>(text);
        var grpc = await _prediction.GetModelMetadataAsync(new GetModelMetadataRequest
        {
            ModelSpec = new ModelSpec { Name = "mnist", Version = 1 },
            MetadataField = { "signature_def", "execution" },
        });
        Assert.Equal(grpc, rest);

        // TF Serving's REST field names, as its clients read them.
        var json = JsonNode.Parse(text)!;
        Assert.Equal("1", json["model_spec"]!["version"]!.GetValue<string>());
        Assert.Equal("", json["model_spec"]!["signature_name"]!.GetValue<string>());
        var signatures = json["metadata"]!["signature_def"]!;
        Assert.Equal("type.googleapis.com/tensorflow.serving.SignatureDefMap", signatures["@type"]!.GetValue<string>());
        var input = signatures["signature_def"]!["serving_default"]!["inputs"]!["x"]!;
        Assert.Equal("DT_FLOAT", input["dtype"]!.GetValue<string>());
        Assert.Equal(["-1", "784"], input["tensor_shape"]!["dim"]!.AsArray().Select(d => d!["size"]!.GetValue<string>()));
        Assert.False(input["tensor_shape"]!["unknown_rank"]!.GetValue<bool>());
        Assert.Equal("tensorflow/serving/predict", signatures["signature_def"]!["serving_default"]!["method_name"]!.GetValue<string>());
        Assert.Equal("type.googleapis.com/google.protobuf.Struct", json["metadata"]!["execution"]!["@type"]!.GetValue<string>());
        Assert.Equal("CPU", json["metadata"]!["execution"]!["value"]!["provider"]!.GetValue<string>());
    }

    [Fact]
    public async Task GetModelStatus_answers_what_REST_answers_for_all_versions_one_version_and_a_label()
    {
        foreach (var (spec, path) in new[]
        {
            (new ModelSpec { Name = "mnist" }, "/v1/models/mnist"),
            (new ModelSpec { Name = "mnist", Version = 2 }, "/v1/models/mnist/versions/2"),
            (new ModelSpec { Name = "mnist", VersionLabel = "stable" }, "/v1/models/mnist/labels/stable"),
            (new ModelSpec { Name = "mnist", Version = 3 }, "/v1/models/mnist/versions/3"),
        })
        {
            var grpc = await _models.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = spec });
            var (status, rest, text) = await Json.GetAsync(_server.Client, path);
            Assert.True(status == 200, text);
            var expected = rest!["model_version_status"]!.AsArray().Select(v => (
                long.Parse(v!["version"]!.GetValue<string>()),
                v["state"]!.GetValue<string>(),
                v["status"]!["error_code"]!.GetValue<string>(),
                v["status"]!["error_message"]!.GetValue<string>())).ToArray();
            var actual = grpc.ModelVersionStatus.Select(v => (v.Version, v.State.ToString().ToUpperInvariant(), v.Status.ErrorCode.ToString() switch
            {
                "Ok" => "OK",
                var other => other.ToUpperInvariant(),
            }, v.Status.ErrorMessage)).ToArray();
            Assert.Equal(expected, actual);
        }

        var all = await _models.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = "mnist" } });
        Assert.Equal([3L, 2, 1], all.ModelVersionStatus.Select(v => v.Version));
        Assert.Equal([ModelVersionStatus.Types.State.End, ModelVersionStatus.Types.State.Available, ModelVersionStatus.Types.State.Available],
            all.ModelVersionStatus.Select(v => v.State));
        Assert.Equal(50, (int)all.ModelVersionStatus[0].State);
        Assert.Equal(Tensorflow.Error.Code.Unknown, all.ModelVersionStatus[0].Status.ErrorCode);
        Assert.NotEmpty(all.ModelVersionStatus[0].Status.ErrorMessage);
    }

    [Fact]
    public async Task GetModelStatus_is_NOT_FOUND_for_an_unknown_model_version_or_label_and_INVALID_ARGUMENT_without_a_spec()
    {
        await RpcAssert.FailsAsync(_models.GetModelStatusAsync(new GetModelStatusRequest()), StatusCode.InvalidArgument, "Missing ModelSpec");
        await RpcAssert.FailsAsync(_models.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = "nope" } }), StatusCode.NotFound, "'nope'", "mnist");
        await RpcAssert.FailsAsync(_models.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = "mnist", Version = 7 } }),
            StatusCode.NotFound, "could not find version 7 of model 'mnist'");
        await RpcAssert.FailsAsync(_models.GetModelStatusAsync(new GetModelStatusRequest { ModelSpec = new ModelSpec { Name = "mnist", VersionLabel = "beta" } }),
            StatusCode.NotFound, "no version label 'beta'", "stable");
    }

    [Fact]
    public async Task Classify_Regress_and_MultiInference_are_UNIMPLEMENTED_with_REST_s_explanation()
    {
        var spec = new ModelSpec { Name = "mnist" };
        await RpcAssert.FailsAsync(_prediction.ClassifyAsync(new ClassificationRequest { ModelSpec = spec }), StatusCode.Unimplemented,
            "Classify", TfServingPredictionService.TfExampleNotServed);
        await RpcAssert.FailsAsync(_prediction.RegressAsync(new RegressionRequest { ModelSpec = spec }), StatusCode.Unimplemented,
            "Regress", TfServingPredictionService.TfExampleNotServed);
        await RpcAssert.FailsAsync(_prediction.MultiInferenceAsync(new MultiInferenceRequest { Tasks = { new InferenceTask { ModelSpec = spec } } }), StatusCode.Unimplemented,
            "MultiInference", "tf.Example", "use Predict");

        // REST gives the same reason for :classify.
        var (status, body, _) = await Json.PostAsync(_server.Client, "/v1/models/mnist:classify", """{"examples": []}""");
        Assert.Equal(501, status);
        Assert.Contains(TfServingPredictionService.TfExampleNotServed.Replace("use Predict", "use :predict", StringComparison.Ordinal), body!["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Health_serves_the_PredictionService_and_reflection_lists_both_TF_Serving_services()
    {
        var health = new Health.HealthClient(_server.GrpcChannel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = "tensorflow.serving.PredictionService" })).Status);

        var reflection = new ServerReflection.ServerReflectionClient(_server.GrpcChannel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty });
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "tensorflow.serving.PredictionService" });
        await call.RequestStream.CompleteAsync();

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToArray();
        Assert.Contains("tensorflow.serving.PredictionService", services);
        Assert.Contains("tensorflow.serving.ModelService", services);
        Assert.Contains("inference.GRPCInferenceService", services);

        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(bytes => FileDescriptorProto.Parser.ParseFrom(bytes).Name).ToArray();
        Assert.Contains("tensorflow_serving/apis/prediction_service.proto", files);
    }
}
