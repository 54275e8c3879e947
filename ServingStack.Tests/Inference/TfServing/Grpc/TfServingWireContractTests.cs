using System.Buffers.Binary;
using System.Text;
using Grpc.Core;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.TfServing.Grpc;

/// <summary>
/// The wire contract without our generated classes: a PredictRequest hand-encoded by the field numbers of TF Serving's
/// published predict.proto, model.proto, tensor.proto and tensor_shape.proto, sent as raw bytes, and the raw answer
/// decoded by field number. A renumbered field in our .proto files fails here even though our client and server agree.
/// </summary>
public sealed class TfServingWireContractTests : IAsyncLifetime
{
    private static readonly Method<byte[], byte[]> s_predict = new(
        MethodType.Unary, "tensorflow.serving.PredictionService", "Predict",
        Marshallers.Create(static bytes => bytes, static bytes => bytes),
        Marshallers.Create(static bytes => bytes, static bytes => bytes));

    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 4, seed: MlpWeights.DefaultSeed);
        _server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    [Fact]
    public async Task A_hand_encoded_PredictRequest_is_answered_with_a_PredictResponse_of_the_published_field_numbers()
    {
        var rows = TestData.MnistRows(2, seed: 5);
        var content = new byte[2 * MlpWeights.InputSize * sizeof(float)];
        for (var i = 0; i < 2 * MlpWeights.InputSize; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(content.AsSpan(i * 4), rows[i / MlpWeights.InputSize][i % MlpWeights.InputSize]);
        }

        // TensorShapeProto: dim = 2 (Dim: size = 1).
        var shape = Concat(Bytes(2, Varint(1, 2)), Bytes(2, Varint(1, MlpWeights.InputSize)));
        // TensorProto: dtype = 1 (DT_FLOAT is 1), tensor_shape = 2, tensor_content = 4.
        var tensor = Concat(Varint(1, 1), Bytes(2, shape), Bytes(4, content));
        // ModelSpec: name = 1, version = 2 (a google.protobuf.Int64Value, whose value is field 1), signature_name = 3.
        var spec = Concat(Bytes(1, "mnist"u8.ToArray()), Bytes(2, Varint(1, 4)), Bytes(3, "serving_default"u8.ToArray()));
        // PredictRequest: model_spec = 1, inputs = 2 (map entry: key = 1, value = 2).
        var request = Concat(Bytes(1, spec), Bytes(2, Concat(Bytes(1, "x"u8.ToArray()), Bytes(2, tensor))));

        var invoker = _server.GrpcChannel.CreateCallInvoker();
        var response = await invoker.AsyncUnaryCall(s_predict, null, new CallOptions(), request);

        // PredictResponse: outputs = 1 (map entry), model_spec = 2.
        var fields = Decode(response);
        var answeredSpec = Decode(Assert.Single(fields, f => f.Number == 2).Bytes!);
        Assert.Equal("mnist", Text(answeredSpec, 1));
        Assert.Equal(4UL, Decode(answeredSpec.Single(f => f.Number == 2).Bytes!).Single(f => f.Number == 1).Varint);
        Assert.Equal("serving_default", Text(answeredSpec, 3));

        var entry = Decode(Assert.Single(fields, f => f.Number == 1).Bytes!);
        Assert.Equal("probabilities", Text(entry, 1));
        var output = Decode(entry.Single(f => f.Number == 2).Bytes!);
        Assert.Equal(1UL, output.Single(f => f.Number == 1).Varint);
        var dims = Decode(output.Single(f => f.Number == 2).Bytes!).Where(f => f.Number == 2).Select(d => Decode(d.Bytes!).Single(f => f.Number == 1).Varint).ToArray();
        Assert.Equal([2UL, (ulong)MlpWeights.OutputSize], dims);

        // float_val = 5, packed: little-endian floats in one length-delimited field.
        var packed = output.Single(f => f.Number == 5).Bytes!;
        var values = new float[packed.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(packed.AsSpan(i * 4));
        }

        TfServingGrpcPredictTests.AssertMatchesReference(MlpWeights.DefaultSeed, rows, values);
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Varint(int field, ulong value) => [.. Tag(field, 0), .. EncodeVarint(value)];

    private static byte[] Varint(int field, long value) => Varint(field, (ulong)value);

    private static byte[] Bytes(int field, byte[] value) => [.. Tag(field, 2), .. EncodeVarint((ulong)value.Length), .. value];

    private static byte[] Tag(int field, int wireType) => EncodeVarint((ulong)((field << 3) | wireType));

    private static byte[] EncodeVarint(ulong value)
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

    private static string Text(List<(int Number, ulong Varint, byte[]? Bytes)> fields, int number) =>
        Encoding.UTF8.GetString(fields.Single(f => f.Number == number).Bytes!);

    /// <summary>Top-level fields of a message: varints and length-delimited values (all this answer holds).</summary>
    private static List<(int Number, ulong Varint, byte[]? Bytes)> Decode(byte[] message)
    {
        var fields = new List<(int, ulong, byte[]?)>();
        var position = 0;
        while (position < message.Length)
        {
            var tag = ReadVarint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    fields.Add((number, ReadVarint(message, ref position), null));
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    fields.Add((number, 0, message[position..(position + length)]));
                    position += length;
                    break;
                default:
                    throw new InvalidDataException($"unexpected wire type {tag & 7} for field {number}");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(byte[] bytes, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
