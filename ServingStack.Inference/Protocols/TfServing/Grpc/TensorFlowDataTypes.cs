using System.Diagnostics.CodeAnalysis;
using Google.Protobuf.Reflection;
using ServingStack.Inference.Runtime;
using Tensorflow;

namespace ServingStack.Inference.Protocols.TfServing.Grpc;

/// <summary>TensorFlow's <see cref="DataType"/> (the wire enum of TF Serving's gRPC API) ↔ <see cref="TensorDataType"/>.</summary>
public static class TensorFlowDataTypes
{
    private static readonly EnumDescriptor s_descriptor = TypesReflection.Descriptor.FindTypeByName<EnumDescriptor>(nameof(DataType));

    /// <summary>The TensorFlow types this server takes, for error messages.</summary>
    public const string Supported =
        "DT_FLOAT, DT_DOUBLE, DT_HALF, DT_BFLOAT16, DT_INT8, DT_INT16, DT_INT32, DT_INT64, DT_UINT8, DT_UINT16, DT_UINT32, DT_UINT64, DT_BOOL, DT_STRING";

    public static bool TryFromTensorFlow(DataType dtype, [NotNullWhen(true)] out TensorDataType? type)
    {
        type = dtype switch
        {
            DataType.DtFloat => TensorDataType.Fp32,
            DataType.DtDouble => TensorDataType.Fp64,
            DataType.DtHalf => TensorDataType.Fp16,
            DataType.DtBfloat16 => TensorDataType.Bf16,
            DataType.DtInt8 => TensorDataType.Int8,
            DataType.DtInt16 => TensorDataType.Int16,
            DataType.DtInt32 => TensorDataType.Int32,
            DataType.DtInt64 => TensorDataType.Int64,
            DataType.DtUint8 => TensorDataType.UInt8,
            DataType.DtUint16 => TensorDataType.UInt16,
            DataType.DtUint32 => TensorDataType.UInt32,
            DataType.DtUint64 => TensorDataType.UInt64,
            DataType.DtBool => TensorDataType.Bool,
            DataType.DtString => TensorDataType.Bytes,
            _ => null,
        };
        return type is not null;
    }

    public static DataType ToTensorFlow(this TensorDataType type) => type switch
    {
        TensorDataType.Fp32 => DataType.DtFloat,
        TensorDataType.Fp64 => DataType.DtDouble,
        TensorDataType.Fp16 => DataType.DtHalf,
        TensorDataType.Bf16 => DataType.DtBfloat16,
        TensorDataType.Int8 => DataType.DtInt8,
        TensorDataType.Int16 => DataType.DtInt16,
        TensorDataType.Int32 => DataType.DtInt32,
        TensorDataType.Int64 => DataType.DtInt64,
        TensorDataType.UInt8 => DataType.DtUint8,
        TensorDataType.UInt16 => DataType.DtUint16,
        TensorDataType.UInt32 => DataType.DtUint32,
        TensorDataType.UInt64 => DataType.DtUint64,
        TensorDataType.Bool => DataType.DtBool,
        TensorDataType.Bytes => DataType.DtString,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The name clients know a type by: DT_FLOAT, DT_HALF... (the enum's proto name).</summary>
    public static string Name(DataType dtype) =>
        s_descriptor.FindValueByNumber((int)dtype)?.Name ?? $"DataType {(int)dtype}";
}
