using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>
/// A version's <see cref="GetModelMetadataResponse"/>, built once here for gRPC's GetModelMetadata and REST's
/// <c>/metadata</c> (which writes it as protobuf JSON, so it parses back into the message).
/// <list type="bullet">
/// <item><c>signature_def</c>: a <see cref="SignatureDefMap"/> with one Predict signature, <c>serving_default</c>
/// (ONNX models have exactly one), its inputs and outputs with dtype and shape (-1 for a variable dimension).</item>
/// <item><c>execution</c> (ours): how the version runs, a <see cref="Struct"/> with <c>provider</c>,
/// <c>requested_provider</c> and, after a CUDA fallback, <c>fallback_reason</c>. A well-known type, so any client's
/// parser unpacks the Any without our .proto files.</item>
/// </list>
/// </summary>
public static class TfServingMetadata
{
    public const string SignatureDefField = "signature_def";
    public const string ExecutionField = "execution";
    public const string DefaultSignature = "serving_default";
    public const string PredictMethod = "tensorflow/serving/predict";

    /// <summary>The types the metadata's Anys hold, for writing and parsing its JSON.</summary>
    public static TypeRegistry Types { get; } = TypeRegistry.FromMessages(SignatureDefMap.Descriptor, Struct.Descriptor);

    /// <summary>
    /// TF Serving's REST spelling: proto field names (<c>signature_def</c>, <c>tensor_shape</c>, <c>method_name</c>) and
    /// default values written out (<c>"unknown_rank": false</c>, <c>"signature_name": ""</c>), as its REST API answers.
    /// </summary>
    private static readonly JsonFormatter s_restJson = new(JsonFormatter.Settings.Default
        .WithPreserveProtoFieldNames(true)
        .WithFormatDefaultValues(true)
        .WithTypeRegistry(Types));

    /// <summary>The metadata of <paramref name="version"/>, with the entries asked for.</summary>
    public static GetModelMetadataResponse Build(ModelVersion version, ExecutionSettings? requested, bool signatureDef, bool execution)
    {
        var response = new GetModelMetadataResponse
        {
            ModelSpec = new ModelSpec { Name = version.ModelName, Version = version.Version },
        };
        if (signatureDef)
        {
            response.Metadata.Add(SignatureDefField, Any.Pack(SignatureDefs(version.Session)));
        }

        if (execution)
        {
            response.Metadata.Add(ExecutionField, Any.Pack(Execution(version, requested)));
        }

        return response;
    }

    /// <summary>REST's body: the message as protobuf JSON in TF Serving's spelling.</summary>
    public static string ToRestJson(GetModelMetadataResponse response) => s_restJson.Format(response);

    public static SignatureDefMap SignatureDefs(OnnxModelSession session)
    {
        var signature = new SignatureDef { MethodName = PredictMethod };
        AddTensors(signature.Inputs, session.Inputs);
        AddTensors(signature.Outputs, session.Outputs);
        var map = new SignatureDefMap();
        map.SignatureDef.Add(DefaultSignature, signature);
        return map;
    }

    public static Struct Execution(ModelVersion version, ExecutionSettings? requested)
    {
        var execution = new Struct();
        execution.Fields.Add("provider", Value.ForString(version.ExecutionProvider ?? string.Empty));
        execution.Fields.Add("requested_provider", Value.ForString(requested?.Provider ?? ExecutionSettings.Cpu));
        if (version.FallbackReason is not null)
        {
            execution.Fields.Add("fallback_reason", Value.ForString(version.FallbackReason));
        }

        return execution;
    }

    private static void AddTensors(Google.Protobuf.Collections.MapField<string, TensorInfo> target, IReadOnlyList<TensorSpec> specs)
    {
        foreach (var spec in specs)
        {
            target.Add(spec.Name, new TensorInfo
            {
                Name = spec.Name,
                Dtype = spec.DataType.ToTensorFlow(),
                TensorShape = TensorProtoConverter.Shape(spec.Shape),
            });
        }
    }
}
