using System.Text.Json;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>Writes tensor elements as JSON: nested by shape (TF Serving) or flat (Open Inference).</summary>
public static class JsonTensorWriter
{
    /// <summary>Writes elements [start, start + count) as a flat list.</summary>
    public static void WriteFlat(Utf8JsonWriter writer, InferenceTensor tensor, long start, long count)
    {
        writer.WriteStartArray();
        for (var i = start; i < start + count; i++)
        {
            WriteElement(writer, tensor, (int)i);
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// Writes the sub-tensor that starts at element <paramref name="start"/> and has dimensions
    /// <c>shape[firstDim..]</c> as nested lists (a scalar when no dimensions are left).
    /// </summary>
    public static void WriteNested(Utf8JsonWriter writer, InferenceTensor tensor, int firstDim, long start)
    {
        var shape = tensor.Shape;
        if (firstDim == shape.Length)
        {
            WriteElement(writer, tensor, (int)start);
            return;
        }

        var stride = ShapeText.ElementCount(shape.AsSpan(firstDim + 1));
        writer.WriteStartArray();
        if (firstDim == shape.Length - 1)
        {
            for (var i = 0L; i < shape[firstDim]; i++)
            {
                WriteElement(writer, tensor, (int)(start + i));
            }
        }
        else
        {
            for (var i = 0L; i < shape[firstDim]; i++)
            {
                WriteNested(writer, tensor, firstDim + 1, start + i * stride);
            }
        }

        writer.WriteEndArray();
    }

    public static void WriteElement(Utf8JsonWriter writer, InferenceTensor tensor, int index)
    {
        switch (tensor.DataType)
        {
            case TensorDataType.Fp32:
                WriteFloat(writer, tensor.GetSpan<float>()[index]);
                break;
            case TensorDataType.Fp64:
                WriteDouble(writer, tensor.GetSpan<double>()[index]);
                break;
            case TensorDataType.Fp16:
                WriteFloat(writer, (float)tensor.GetSpan<Half>()[index]);
                break;
            case TensorDataType.Bf16:
                WriteFloat(writer, BitConverter.UInt32BitsToSingle((uint)tensor.GetSpan<ushort>()[index] << 16));
                break;
            case TensorDataType.Bool:
                writer.WriteBooleanValue(tensor.Bytes[index] != 0);
                break;
            case TensorDataType.Int8:
                writer.WriteNumberValue(tensor.GetSpan<sbyte>()[index]);
                break;
            case TensorDataType.Int16:
                writer.WriteNumberValue(tensor.GetSpan<short>()[index]);
                break;
            case TensorDataType.Int32:
                writer.WriteNumberValue(tensor.GetSpan<int>()[index]);
                break;
            case TensorDataType.Int64:
                writer.WriteNumberValue(tensor.GetSpan<long>()[index]);
                break;
            case TensorDataType.UInt8:
                writer.WriteNumberValue(tensor.Bytes[index]);
                break;
            case TensorDataType.UInt16:
                writer.WriteNumberValue(tensor.GetSpan<ushort>()[index]);
                break;
            case TensorDataType.UInt32:
                writer.WriteNumberValue(tensor.GetSpan<uint>()[index]);
                break;
            case TensorDataType.UInt64:
                writer.WriteNumberValue(tensor.GetSpan<ulong>()[index]);
                break;
            case TensorDataType.Bytes:
                writer.WriteStringValue(tensor.Strings![index]);
                break;
        }
    }

    // JSON has no NaN or Infinity; TF Serving writes them bare, and Python's json module reads them back.
    private static void WriteFloat(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteRawValue(float.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity", skipInputValidation: true);
        }
    }

    private static void WriteDouble(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteRawValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity", skipInputValidation: true);
        }
    }
}
