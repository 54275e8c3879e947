using System.Diagnostics.CodeAnalysis;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ServingStack.Inference.Runtime;

/// <summary>Maps between our datatypes, ONNX element types, Open Inference names and TensorFlow's DT_* names.</summary>
public static class TensorDataTypes
{
    public static bool TryFromOnnx(TensorElementType type, out TensorDataType dataType)
    {
        dataType = type switch
        {
            TensorElementType.Bool => TensorDataType.Bool,
            TensorElementType.UInt8 => TensorDataType.UInt8,
            TensorElementType.UInt16 => TensorDataType.UInt16,
            TensorElementType.UInt32 => TensorDataType.UInt32,
            TensorElementType.UInt64 => TensorDataType.UInt64,
            TensorElementType.Int8 => TensorDataType.Int8,
            TensorElementType.Int16 => TensorDataType.Int16,
            TensorElementType.Int32 => TensorDataType.Int32,
            TensorElementType.Int64 => TensorDataType.Int64,
            TensorElementType.Float16 => TensorDataType.Fp16,
            TensorElementType.BFloat16 => TensorDataType.Bf16,
            TensorElementType.Float => TensorDataType.Fp32,
            TensorElementType.Double => TensorDataType.Fp64,
            TensorElementType.String => TensorDataType.Bytes,
            _ => (TensorDataType)(-1),
        };
        return (int)dataType >= 0;
    }

    public static TensorElementType ToOnnx(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => TensorElementType.Bool,
        TensorDataType.UInt8 => TensorElementType.UInt8,
        TensorDataType.UInt16 => TensorElementType.UInt16,
        TensorDataType.UInt32 => TensorElementType.UInt32,
        TensorDataType.UInt64 => TensorElementType.UInt64,
        TensorDataType.Int8 => TensorElementType.Int8,
        TensorDataType.Int16 => TensorElementType.Int16,
        TensorDataType.Int32 => TensorElementType.Int32,
        TensorDataType.Int64 => TensorElementType.Int64,
        TensorDataType.Fp16 => TensorElementType.Float16,
        TensorDataType.Bf16 => TensorElementType.BFloat16,
        TensorDataType.Fp32 => TensorElementType.Float,
        TensorDataType.Fp64 => TensorElementType.Double,
        TensorDataType.Bytes => TensorElementType.String,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Bytes per element; 0 for variable-length BYTES.</summary>
    public static int ElementSize(this TensorDataType type) => type switch
    {
        TensorDataType.Bool or TensorDataType.UInt8 or TensorDataType.Int8 => 1,
        TensorDataType.UInt16 or TensorDataType.Int16 or TensorDataType.Fp16 or TensorDataType.Bf16 => 2,
        TensorDataType.UInt32 or TensorDataType.Int32 or TensorDataType.Fp32 => 4,
        TensorDataType.UInt64 or TensorDataType.Int64 or TensorDataType.Fp64 => 8,
        _ => 0,
    };

    public static string ToOpenInferenceName(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => "BOOL",
        TensorDataType.UInt8 => "UINT8",
        TensorDataType.UInt16 => "UINT16",
        TensorDataType.UInt32 => "UINT32",
        TensorDataType.UInt64 => "UINT64",
        TensorDataType.Int8 => "INT8",
        TensorDataType.Int16 => "INT16",
        TensorDataType.Int32 => "INT32",
        TensorDataType.Int64 => "INT64",
        TensorDataType.Fp16 => "FP16",
        TensorDataType.Bf16 => "BF16",
        TensorDataType.Fp32 => "FP32",
        TensorDataType.Fp64 => "FP64",
        TensorDataType.Bytes => "BYTES",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static bool TryParseOpenInferenceName(string? name, [NotNullWhen(true)] out TensorDataType? type)
    {
        type = name switch
        {
            "BOOL" => TensorDataType.Bool,
            "UINT8" => TensorDataType.UInt8,
            "UINT16" => TensorDataType.UInt16,
            "UINT32" => TensorDataType.UInt32,
            "UINT64" => TensorDataType.UInt64,
            "INT8" => TensorDataType.Int8,
            "INT16" => TensorDataType.Int16,
            "INT32" => TensorDataType.Int32,
            "INT64" => TensorDataType.Int64,
            "FP16" => TensorDataType.Fp16,
            "BF16" => TensorDataType.Bf16,
            "FP32" => TensorDataType.Fp32,
            "FP64" => TensorDataType.Fp64,
            "BYTES" => TensorDataType.Bytes,
            _ => null,
        };
        return type is not null;
    }

    /// <summary>TensorFlow's DataType enum names, used by the TF Serving metadata API.</summary>
    public static string ToTensorFlowName(this TensorDataType type) => type switch
    {
        TensorDataType.Bool => "DT_BOOL",
        TensorDataType.UInt8 => "DT_UINT8",
        TensorDataType.UInt16 => "DT_UINT16",
        TensorDataType.UInt32 => "DT_UINT32",
        TensorDataType.UInt64 => "DT_UINT64",
        TensorDataType.Int8 => "DT_INT8",
        TensorDataType.Int16 => "DT_INT16",
        TensorDataType.Int32 => "DT_INT32",
        TensorDataType.Int64 => "DT_INT64",
        TensorDataType.Fp16 => "DT_HALF",
        TensorDataType.Bf16 => "DT_BFLOAT16",
        TensorDataType.Fp32 => "DT_FLOAT",
        TensorDataType.Fp64 => "DT_DOUBLE",
        TensorDataType.Bytes => "DT_STRING",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
