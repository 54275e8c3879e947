using Google.Protobuf.Reflection;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>
/// Facts from TF Serving's and TensorFlow's published .proto files, written out by hand (package, message, field name,
/// number, type; enum numbers; services and methods), compared with the descriptors generated from our files. Clients
/// are generated from the published files, so any difference here breaks them.
/// </summary>
public sealed class TfServingProtoDescriptorTests
{
    private static readonly Dictionary<string, MessageDescriptor> s_messages = CollectMessages();

    public static TheoryData<string, string, int, FieldType, bool> Fields => new()
    {
        { "tensorflow.serving.ModelSpec", "name", 1, FieldType.String, false },
        { "tensorflow.serving.ModelSpec", "version", 2, FieldType.Message, false },
        { "tensorflow.serving.ModelSpec", "signature_name", 3, FieldType.String, false },
        { "tensorflow.serving.ModelSpec", "version_label", 4, FieldType.String, false },
        { "tensorflow.serving.PredictRequest", "model_spec", 1, FieldType.Message, false },
        { "tensorflow.serving.PredictRequest", "inputs", 2, FieldType.Message, true },
        { "tensorflow.serving.PredictRequest", "output_filter", 3, FieldType.String, true },
        { "tensorflow.serving.PredictResponse", "model_spec", 2, FieldType.Message, false },
        { "tensorflow.serving.PredictResponse", "outputs", 1, FieldType.Message, true },
        { "tensorflow.TensorProto", "dtype", 1, FieldType.Enum, false },
        { "tensorflow.TensorProto", "tensor_shape", 2, FieldType.Message, false },
        { "tensorflow.TensorProto", "version_number", 3, FieldType.Int32, false },
        { "tensorflow.TensorProto", "tensor_content", 4, FieldType.Bytes, false },
        { "tensorflow.TensorProto", "half_val", 13, FieldType.Int32, true },
        { "tensorflow.TensorProto", "float_val", 5, FieldType.Float, true },
        { "tensorflow.TensorProto", "double_val", 6, FieldType.Double, true },
        { "tensorflow.TensorProto", "int_val", 7, FieldType.Int32, true },
        { "tensorflow.TensorProto", "string_val", 8, FieldType.Bytes, true },
        { "tensorflow.TensorProto", "scomplex_val", 9, FieldType.Float, true },
        { "tensorflow.TensorProto", "int64_val", 10, FieldType.Int64, true },
        { "tensorflow.TensorProto", "bool_val", 11, FieldType.Bool, true },
        { "tensorflow.TensorProto", "dcomplex_val", 12, FieldType.Double, true },
        { "tensorflow.TensorProto", "resource_handle_val", 14, FieldType.Message, true },
        { "tensorflow.TensorProto", "variant_val", 15, FieldType.Message, true },
        { "tensorflow.TensorProto", "uint32_val", 16, FieldType.UInt32, true },
        { "tensorflow.TensorProto", "uint64_val", 17, FieldType.UInt64, true },
        { "tensorflow.TensorShapeProto", "dim", 2, FieldType.Message, true },
        { "tensorflow.TensorShapeProto", "unknown_rank", 3, FieldType.Bool, false },
        { "tensorflow.TensorShapeProto.Dim", "size", 1, FieldType.Int64, false },
        { "tensorflow.TensorShapeProto.Dim", "name", 2, FieldType.String, false },
        { "tensorflow.serving.GetModelMetadataRequest", "model_spec", 1, FieldType.Message, false },
        { "tensorflow.serving.GetModelMetadataRequest", "metadata_field", 2, FieldType.String, true },
        { "tensorflow.serving.GetModelMetadataResponse", "model_spec", 1, FieldType.Message, false },
        { "tensorflow.serving.GetModelMetadataResponse", "metadata", 2, FieldType.Message, true },
        { "tensorflow.serving.SignatureDefMap", "signature_def", 1, FieldType.Message, true },
        { "tensorflow.SignatureDef", "inputs", 1, FieldType.Message, true },
        { "tensorflow.SignatureDef", "outputs", 2, FieldType.Message, true },
        { "tensorflow.SignatureDef", "method_name", 3, FieldType.String, false },
        { "tensorflow.TensorInfo", "name", 1, FieldType.String, false },
        { "tensorflow.TensorInfo", "dtype", 2, FieldType.Enum, false },
        { "tensorflow.TensorInfo", "tensor_shape", 3, FieldType.Message, false },
        { "tensorflow.TensorInfo", "coo_sparse", 4, FieldType.Message, false },
        { "tensorflow.serving.GetModelStatusRequest", "model_spec", 1, FieldType.Message, false },
        { "tensorflow.serving.GetModelStatusResponse", "model_version_status", 1, FieldType.Message, true },
        { "tensorflow.serving.ModelVersionStatus", "version", 1, FieldType.Int64, false },
        { "tensorflow.serving.ModelVersionStatus", "state", 2, FieldType.Enum, false },
        { "tensorflow.serving.ModelVersionStatus", "status", 3, FieldType.Message, false },
        { "tensorflow.serving.StatusProto", "error_code", 1, FieldType.Enum, false },
        { "tensorflow.serving.StatusProto", "error_message", 2, FieldType.String, false },
        { "tensorflow.serving.ReloadConfigRequest", "config", 1, FieldType.Message, false },
        { "tensorflow.serving.ReloadConfigResponse", "status", 1, FieldType.Message, false },
        { "tensorflow.serving.ModelServerConfig", "model_config_list", 1, FieldType.Message, false },
        { "tensorflow.serving.ModelServerConfig", "custom_model_config", 2, FieldType.Message, false },
        { "tensorflow.serving.ModelConfigList", "config", 1, FieldType.Message, true },
        { "tensorflow.serving.ModelConfig", "name", 1, FieldType.String, false },
        { "tensorflow.serving.ModelConfig", "base_path", 2, FieldType.String, false },
        { "tensorflow.serving.ModelConfig", "model_type", 3, FieldType.Enum, false },
        { "tensorflow.serving.ModelConfig", "model_platform", 4, FieldType.String, false },
        { "tensorflow.serving.ModelConfig", "model_version_policy", 7, FieldType.Message, false },
        { "tensorflow.serving.ModelConfig", "version_labels", 8, FieldType.Message, true },
        { "tensorflow.serving.ModelConfig", "logging_config", 6, FieldType.Message, false },
        { "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy", "latest", 100, FieldType.Message, false },
        { "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy", "all", 101, FieldType.Message, false },
        { "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy", "specific", 102, FieldType.Message, false },
        { "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest", "num_versions", 1, FieldType.UInt32, false },
        { "tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific", "versions", 1, FieldType.Int64, true },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void Field_matches_the_published_proto(string message, string field, int number, FieldType type, bool repeated)
    {
        Assert.True(s_messages.TryGetValue(message, out var descriptor), $"message {message} is missing");
        var actual = descriptor.FindFieldByName(field);
        Assert.True(actual is not null, $"{message}.{field} is missing");
        Assert.Equal((number, type, repeated), (actual.FieldNumber, actual.FieldType, actual.IsRepeated || actual.IsMap));
    }

    [Fact]
    public void Message_types_of_the_fields_clients_fill_match_the_published_proto()
    {
        Assert.Equal("google.protobuf.Int64Value", s_messages["tensorflow.serving.ModelSpec"].FindFieldByName("version").MessageType.FullName);
        Assert.Equal("tensorflow.TensorProto", MapValue("tensorflow.serving.PredictRequest", "inputs"));
        Assert.Equal("tensorflow.TensorProto", MapValue("tensorflow.serving.PredictResponse", "outputs"));
        Assert.Equal("google.protobuf.Any", MapValue("tensorflow.serving.GetModelMetadataResponse", "metadata"));
        Assert.Equal("tensorflow.SignatureDef", MapValue("tensorflow.serving.SignatureDefMap", "signature_def"));
        Assert.Equal("tensorflow.TensorInfo", MapValue("tensorflow.SignatureDef", "inputs"));
        Assert.Equal("tensorflow.DataType", s_messages["tensorflow.TensorProto"].FindFieldByName("dtype").EnumType.FullName);
        Assert.Equal("tensorflow.error.Code", s_messages["tensorflow.serving.StatusProto"].FindFieldByName("error_code").EnumType.FullName);
        Assert.True(s_messages["tensorflow.serving.ModelSpec"].FindFieldByName("version").ContainingOneof?.Name == "version_choice");
        Assert.True(s_messages["tensorflow.serving.ModelSpec"].FindFieldByName("version_label").ContainingOneof?.Name == "version_choice");

        static string MapValue(string message, string field) =>
            s_messages[message].FindFieldByName(field).MessageType.FindFieldByNumber(2).MessageType.FullName;
    }

    [Fact]
    public void DataType_and_State_and_error_Code_numbers_match_the_published_enums()
    {
        (string Name, int Number)[] dataTypes =
        [
            ("DT_INVALID", 0), ("DT_FLOAT", 1), ("DT_DOUBLE", 2), ("DT_INT32", 3), ("DT_UINT8", 4), ("DT_INT16", 5), ("DT_INT8", 6),
            ("DT_STRING", 7), ("DT_COMPLEX64", 8), ("DT_INT64", 9), ("DT_BOOL", 10), ("DT_QINT8", 11), ("DT_QUINT8", 12), ("DT_QINT32", 13),
            ("DT_BFLOAT16", 14), ("DT_QINT16", 15), ("DT_QUINT16", 16), ("DT_UINT16", 17), ("DT_COMPLEX128", 18), ("DT_HALF", 19),
            ("DT_RESOURCE", 20), ("DT_VARIANT", 21), ("DT_UINT32", 22), ("DT_UINT64", 23), ("DT_FLOAT8_E5M2", 24), ("DT_FLOAT8_E4M3FN", 25),
            ("DT_INT4", 29), ("DT_UINT4", 30), ("DT_FLOAT_REF", 101), ("DT_HALF_REF", 119), ("DT_UINT64_REF", 123),
        ];
        var dataType = TypesReflection.Descriptor.FindTypeByName<EnumDescriptor>("DataType");
        foreach (var (name, number) in dataTypes)
        {
            Assert.Equal(number, dataType.FindValueByName(name)?.Number);
        }

        var state = s_messages["tensorflow.serving.ModelVersionStatus"].EnumTypes.Single(e => e.Name == "State");
        Assert.Equal([("UNKNOWN", 0), ("START", 10), ("LOADING", 20), ("AVAILABLE", 30), ("UNLOADING", 40), ("END", 50)],
            state.Values.Select(v => (v.Name, v.Number)));

        var code = Tensorflow.Error.ErrorCodesReflection.Descriptor.FindTypeByName<EnumDescriptor>("Code");
        Assert.Equal([("OK", 0), ("CANCELLED", 1), ("INVALID_ARGUMENT", 3), ("NOT_FOUND", 5), ("UNAUTHENTICATED", 16), ("UNAVAILABLE", 14)],
            new[] { "OK", "CANCELLED", "INVALID_ARGUMENT", "NOT_FOUND", "UNAUTHENTICATED", "UNAVAILABLE" }.Select(n => (n, code.FindValueByName(n).Number)));
    }

    [Fact]
    public void Services_and_methods_have_the_published_full_names_and_types()
    {
        Assert.Equal(
            [
                ("Classify", "tensorflow.serving.ClassificationRequest", "tensorflow.serving.ClassificationResponse"),
                ("Regress", "tensorflow.serving.RegressionRequest", "tensorflow.serving.RegressionResponse"),
                ("Predict", "tensorflow.serving.PredictRequest", "tensorflow.serving.PredictResponse"),
                ("MultiInference", "tensorflow.serving.MultiInferenceRequest", "tensorflow.serving.MultiInferenceResponse"),
                ("GetModelMetadata", "tensorflow.serving.GetModelMetadataRequest", "tensorflow.serving.GetModelMetadataResponse"),
            ],
            Methods(PredictionService.Descriptor, "tensorflow.serving.PredictionService"));
        Assert.Equal(
            [
                ("GetModelStatus", "tensorflow.serving.GetModelStatusRequest", "tensorflow.serving.GetModelStatusResponse"),
                ("HandleReloadConfigRequest", "tensorflow.serving.ReloadConfigRequest", "tensorflow.serving.ReloadConfigResponse"),
            ],
            Methods(ModelService.Descriptor, "tensorflow.serving.ModelService"));

        static (string, string, string)[] Methods(ServiceDescriptor service, string fullName)
        {
            Assert.Equal(fullName, service.FullName);
            Assert.All(service.Methods, m => Assert.False(m.IsClientStreaming || m.IsServerStreaming));
            return service.Methods.Select(m => (m.Name, m.InputType.FullName, m.OutputType.FullName)).ToArray();
        }
    }

    private static Dictionary<string, MessageDescriptor> CollectMessages()
    {
        var messages = new Dictionary<string, MessageDescriptor>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<FileDescriptor>([PredictionServiceReflection.Descriptor, ModelServiceReflection.Descriptor]);
        while (pending.TryPop(out var file))
        {
            if (!seen.Add(file.Name))
            {
                continue;
            }

            foreach (var dependency in file.Dependencies)
            {
                pending.Push(dependency);
            }

            var nested = new Stack<MessageDescriptor>(file.MessageTypes);
            while (nested.TryPop(out var message))
            {
                messages[message.FullName] = message;
                foreach (var inner in message.NestedTypes)
                {
                    nested.Push(inner);
                }
            }
        }

        return messages;
    }
}
