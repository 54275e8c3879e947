using System.Runtime.InteropServices;
using Google.Protobuf;
using Tensorflow;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>Builds and reads TensorFlow <see cref="TensorProto"/>s the way TF Serving clients do.</summary>
public static class TfTensors
{
    public static TensorShapeProto Shape(params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(new TensorShapeProto.Types.Dim { Size = dim });
        }

        return shape;
    }

    /// <summary>Raw little-endian <c>tensor_content</c>, the fast path numpy-based clients use.</summary>
    public static TensorProto Content<T>(DataType dtype, T[] values, params long[] dims) where T : unmanaged => new()
    {
        Dtype = dtype,
        TensorShape = Shape(dims),
        TensorContent = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())),
    };

    public static TensorProto Floats(float[] values, params long[] dims)
    {
        var proto = new TensorProto { Dtype = DataType.DtFloat, TensorShape = Shape(dims) };
        proto.FloatVal.Add(values);
        return proto;
    }

    public static long[] Dims(TensorProto proto) => proto.TensorShape.Dim.Select(d => d.Size).ToArray();
}
