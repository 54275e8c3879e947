using Tensorflow;

namespace ServingStack.Bench.Remote;

/// <summary>Open Inference datatype names ↔ TensorFlow's <see cref="DataType"/>, for TF Serving's gRPC Predict.</summary>
public static class TensorFlowTypes
{
    public static DataType FromDatatype(string datatype) => datatype switch
    {
        "FP32" => DataType.DtFloat,
        "FP64" => DataType.DtDouble,
        "FP16" => DataType.DtHalf,
        "BF16" => DataType.DtBfloat16,
        "INT8" => DataType.DtInt8,
        "INT16" => DataType.DtInt16,
        "INT32" => DataType.DtInt32,
        "INT64" => DataType.DtInt64,
        "UINT8" => DataType.DtUint8,
        "UINT16" => DataType.DtUint16,
        "UINT32" => DataType.DtUint32,
        "UINT64" => DataType.DtUint64,
        "BOOL" => DataType.DtBool,
        "BYTES" => DataType.DtString,
        _ => throw new InvalidOperationException($"Datatype '{datatype}' has no TensorFlow dtype."),
    };

    public static string ToDatatype(DataType dtype) => dtype switch
    {
        DataType.DtFloat => "FP32",
        DataType.DtDouble => "FP64",
        DataType.DtHalf => "FP16",
        DataType.DtBfloat16 => "BF16",
        DataType.DtInt8 => "INT8",
        DataType.DtInt16 => "INT16",
        DataType.DtInt32 => "INT32",
        DataType.DtInt64 => "INT64",
        DataType.DtUint8 => "UINT8",
        DataType.DtUint16 => "UINT16",
        DataType.DtUint32 => "UINT32",
        DataType.DtUint64 => "UINT64",
        DataType.DtBool => "BOOL",
        DataType.DtString => "BYTES",
        _ => throw new InvalidDataException($"TensorFlow dtype {dtype} is not one the load tool reads."),
    };
}
