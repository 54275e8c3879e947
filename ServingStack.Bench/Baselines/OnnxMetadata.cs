using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ServingStack.Inference.Protocols.OpenInference.Grpc;

namespace ServingStack.Bench.Baselines;

/// <summary>A session's inputs and outputs as Open Inference ModelMetadata, so the load tool can talk to a baseline.</summary>
public static class OnnxMetadata
{
    public static ModelMetadataResponse Describe(string model, InferenceSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var response = new ModelMetadataResponse { Name = model, Platform = "onnxruntime_onnx" };
        response.Versions.Add("1");
        foreach (var (name, node) in session.InputMetadata)
        {
            response.Inputs.Add(Tensor(name, node));
        }

        foreach (var (name, node) in session.OutputMetadata)
        {
            response.Outputs.Add(Tensor(name, node));
        }

        return response;
    }

    /// <summary>The Open Inference datatype of an ONNX element type (the numeric ones the baselines serve).</summary>
    public static string Datatype(TensorElementType type) => type switch
    {
        TensorElementType.Float => "FP32",
        TensorElementType.Double => "FP64",
        TensorElementType.Float16 => "FP16",
        TensorElementType.BFloat16 => "BF16",
        TensorElementType.Int8 => "INT8",
        TensorElementType.Int16 => "INT16",
        TensorElementType.Int32 => "INT32",
        TensorElementType.Int64 => "INT64",
        TensorElementType.UInt8 => "UINT8",
        TensorElementType.UInt16 => "UINT16",
        TensorElementType.UInt32 => "UINT32",
        TensorElementType.UInt64 => "UINT64",
        TensorElementType.Bool => "BOOL",
        _ => throw new NotSupportedException($"The baselines serve numeric tensors only, not {type}."),
    };

    private static ModelMetadataResponse.Types.TensorMetadata Tensor(string name, NodeMetadata node)
    {
        var tensor = new ModelMetadataResponse.Types.TensorMetadata { Name = name, Datatype = Datatype(node.ElementDataType) };
        foreach (var dim in node.Dimensions)
        {
            tensor.Shape.Add(dim < 0 ? -1 : dim);
        }

        return tensor;
    }
}
