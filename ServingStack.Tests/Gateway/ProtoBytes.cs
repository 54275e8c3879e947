using System.Buffers.Binary;
using System.Text;

namespace ServingStack.Tests.Gateway;

/// <summary>
/// Protobuf wire bytes encoded by hand from the published field numbers (no generated code), and gRPC frames around
/// them: what a client generated from the published protos would send, or a hostile one that lies about lengths.
/// </summary>
internal static class ProtoBytes
{
    public const int Varint = 0;
    public const int LengthDelimited = 2;

    public static byte[] VarintBytes(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value == 0 ? b : (byte)(b | 0x80));
        }
        while (value != 0);
        return [.. bytes];
    }

    public static byte[] Tag(int field, int wireType) => VarintBytes(((ulong)field << 3) | (uint)wireType);

    /// <summary>A length-delimited field (string, bytes or embedded message).</summary>
    public static byte[] Field(int field, byte[] payload) => [.. Tag(field, LengthDelimited), .. VarintBytes((ulong)payload.Length), .. payload];

    public static byte[] Field(int field, string text) => Field(field, Encoding.UTF8.GetBytes(text));

    /// <summary>A varint field (int64, bool, enum).</summary>
    public static byte[] VarintField(int field, ulong value) => [.. Tag(field, Varint), .. VarintBytes(value)];

    /// <summary>A length-delimited field whose declared length is <paramref name="declared"/>, followed by <paramref name="payload"/>.</summary>
    public static byte[] LyingField(int field, ulong declared, byte[] payload) => [.. Tag(field, LengthDelimited), .. VarintBytes(declared), .. payload];

    /// <summary>A gRPC message frame: compressed flag 0, big-endian length, message.</summary>
    public static byte[] Frame(byte[] message)
    {
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
        message.CopyTo(frame, 5);
        return frame;
    }

    /// <summary>tensorflow.serving.ModelSpec: name 1, version (Int64Value) 2, signature_name 3, version_label 4.</summary>
    public static byte[] ModelSpec(string name, long? version = null, string? label = null, string? signature = null)
    {
        var spec = new List<byte>(Field(1, name));
        if (version is { } v)
        {
            // google.protobuf.Int64Value: value 1.
            spec.AddRange(Field(2, VarintField(1, (ulong)v)));
        }

        if (signature is not null)
        {
            spec.AddRange(Field(3, signature));
        }

        if (label is not null)
        {
            spec.AddRange(Field(4, label));
        }

        return [.. spec];
    }

    /// <summary>
    /// A PredictRequest (model_spec 1, inputs 2 as map entries of string key 1 → TensorProto 2): one DT_FLOAT input
    /// <c>x</c> of shape [1, n] in tensor_content (4).
    /// </summary>
    public static byte[] PredictRequest(byte[] modelSpec, float[] row)
    {
        // TensorShapeProto: dim 2 (repeated Dim: size 1).
        byte[] shape = [.. Field(2, VarintField(1, 1)), .. Field(2, VarintField(1, (ulong)row.Length))];
        var content = new byte[row.Length * 4];
        for (var i = 0; i < row.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(content.AsSpan(i * 4), row[i]);
        }

        // TensorProto: dtype 1 (DT_FLOAT = 1), tensor_shape 2, tensor_content 4.
        byte[] tensor = [.. VarintField(1, 1), .. Field(2, shape), .. Field(4, content)];
        byte[] entry = [.. Field(1, "x"), .. Field(2, tensor)];
        return [.. Field(1, modelSpec), .. Field(2, entry)];
    }
}
