using System.Buffers.Binary;
using System.Globalization;
using Google.Protobuf;
using Onnx;

namespace ServingStack.Tests.Fixtures;

/// <summary>
/// Builds small ONNX models in memory. Every method is deterministic: the same arguments always
/// give byte-identical output, so tests can compare hashes or rely on stable file contents.
/// </summary>
public static class ModelFactory
{
    /// <summary>dim_param used for the symbolic batch dimension of every input and output.</summary>
    public const string BatchDimension = "batch";

    /// <summary>ai.onnx opset the models import.</summary>
    public const long OpsetVersion = 13;

    /// <summary>IR version 8 (ONNX 1.10+), well within what ONNX Runtime 1.31 loads.</summary>
    public const long IrVersion = 8;

    public const string MlpInputName = "x";
    public const string MlpOutputName = "probabilities";

    public const int MultiWidth = 3;
    public const string MultiInputA = "a";
    public const string MultiInputB = "b";
    public const string MultiOutputSum = "sum";
    public const string MultiOutputProduct = "product";

    public const int Int64Width = 4;
    public const string Int64InputName = "ids";
    public const string Int64OutputName = "doubled";

    /// <summary>Layer widths of <see cref="CreateWideMlp"/>: 1024 → 4096 → 4096 → 1000.</summary>
    public const int WideMlpInputSize = 1024;
    public const int WideMlpHiddenSize = 4096;
    public const int WideMlpOutputSize = 1000;

    public const string IdentityInputName = "x";
    public const string IdentityOutputName = "y";

    // Not the solution's name: `dotnet new servingstack -n Other.Name` renames every text file, while the committed demo
    // models are copied byte for byte, so a name in them would make the renamed solution's drift test fail.
    private const string ProducerName = "ModelFactory";

    /// <summary>
    /// x FP32 [batch,784] → Gemm(W1,B1) → Relu → Gemm(W2,B2) → Softmax(axis=-1) → probabilities FP32 [batch,10].
    /// </summary>
    public static byte[] CreateMlp(MlpWeights weights) => BuildMlp(weights, fixedBatch: false);

    /// <summary>Same MLP as <see cref="CreateMlp"/> but with the batch dimension pinned to 1.</summary>
    public static byte[] CreateFixedBatchMlp(MlpWeights weights) => BuildMlp(weights, fixedBatch: true);

    /// <summary>
    /// A compute-heavy MLP for load tests: x FP32 [batch,1024] → Gemm → Relu → Gemm → Relu → Gemm → Softmax(axis=-1) →
    /// probabilities FP32 [batch,1000], about 25 M parameters (~100 MB). Weights are Glorot-uniform from SplitMix64
    /// (as <see cref="MlpWeights"/>), biases uniform in ±0.05; initializers are stored as raw_data, so building and
    /// serializing take well under a second or two. The same seed always gives byte-identical output.
    /// </summary>
    public static byte[] CreateWideMlp(int seed)
    {
        // SplitMix64 is counter based: element i of the stream is Mix(seed + (i + 1) * gamma), so every tensor is
        // generated from its own offset in one stream, in parallel, and the result still does not depend on threads.
        var offset = 0L;
        TensorProto Next(string name, float limit, params long[] dims)
        {
            var tensor = RandomFloatTensor(name, unchecked((ulong)seed), offset, limit, dims);
            offset += dims.Aggregate(1L, (a, b) => a * b);
            return tensor;
        }

        const int input = WideMlpInputSize, hidden = WideMlpHiddenSize, output = WideMlpOutputSize;
        const float biasLimit = 0.05f;
        var graph = new GraphProto { Name = "wide_mlp" };
        graph.Initializer.Add(Next("W1", GlorotLimit(input, hidden), input, hidden));
        graph.Initializer.Add(Next("B1", biasLimit, hidden));
        graph.Initializer.Add(Next("W2", GlorotLimit(hidden, hidden), hidden, hidden));
        graph.Initializer.Add(Next("B2", biasLimit, hidden));
        graph.Initializer.Add(Next("W3", GlorotLimit(hidden, output), hidden, output));
        graph.Initializer.Add(Next("B3", biasLimit, output));

        graph.Input.Add(BatchedValueInfo(MlpInputName, TensorProto.Types.DataType.Float, input));
        graph.Node.Add(Node("Gemm", "fc1", [MlpInputName, "W1", "B1"], ["fc1_out"]));
        graph.Node.Add(Node("Relu", "relu1", ["fc1_out"], ["relu1_out"]));
        graph.Node.Add(Node("Gemm", "fc2", ["relu1_out", "W2", "B2"], ["fc2_out"]));
        graph.Node.Add(Node("Relu", "relu2", ["fc2_out"], ["relu2_out"]));
        graph.Node.Add(Node("Gemm", "fc3", ["relu2_out", "W3", "B3"], ["logits"]));
        var softmax = Node("Softmax", "softmax", ["logits"], [MlpOutputName]);
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
        graph.Node.Add(softmax);
        graph.Output.Add(BatchedValueInfo(MlpOutputName, TensorProto.Types.DataType.Float, output));
        return Serialize(graph);
    }

    /// <summary>Inputs a, b FP32 [batch,3]; outputs sum = a + b and product = a * b, FP32 [batch,3].</summary>
    public static byte[] CreateMultiInputOutput()
    {
        var graph = new GraphProto { Name = "multi_input_output" };
        graph.Input.Add(BatchedValueInfo(MultiInputA, TensorProto.Types.DataType.Float, MultiWidth));
        graph.Input.Add(BatchedValueInfo(MultiInputB, TensorProto.Types.DataType.Float, MultiWidth));
        graph.Node.Add(Node("Add", "add", [MultiInputA, MultiInputB], [MultiOutputSum]));
        graph.Node.Add(Node("Mul", "mul", [MultiInputA, MultiInputB], [MultiOutputProduct]));
        graph.Output.Add(BatchedValueInfo(MultiOutputSum, TensorProto.Types.DataType.Float, MultiWidth));
        graph.Output.Add(BatchedValueInfo(MultiOutputProduct, TensorProto.Types.DataType.Float, MultiWidth));
        return Serialize(graph);
    }

    /// <summary>ids INT64 [batch,4] → Mul by an INT64 scalar initializer 2 → doubled INT64 [batch,4].</summary>
    public static byte[] CreateInt64Model()
    {
        var two = new TensorProto { Name = "two", DataType = (int)TensorProto.Types.DataType.Int64 };
        two.Int64Data.Add(2L);

        var graph = new GraphProto { Name = "int64_doubler" };
        graph.Initializer.Add(two);
        graph.Input.Add(BatchedValueInfo(Int64InputName, TensorProto.Types.DataType.Int64, Int64Width));
        graph.Node.Add(Node("Mul", "double", [Int64InputName, "two"], [Int64OutputName]));
        graph.Output.Add(BatchedValueInfo(Int64OutputName, TensorProto.Types.DataType.Int64, Int64Width));
        return Serialize(graph);
    }

    /// <summary>x [batch,width] → Identity → y [batch,width], both of <paramref name="elementType"/>.</summary>
    public static byte[] CreateIdentity(FixtureElementType elementType, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        var dataType = ToOnnxDataType(elementType);

        var graph = new GraphProto { Name = "identity_" + elementType.ToString().ToLowerInvariant() };
        graph.Input.Add(BatchedValueInfo(IdentityInputName, dataType, width));
        graph.Node.Add(Node("Identity", "identity", [IdentityInputName], [IdentityOutputName]));
        graph.Output.Add(BatchedValueInfo(IdentityOutputName, dataType, width));
        return Serialize(graph);
    }

    /// <summary>x FP32 [batch,width] → Identity → y, with the width symbolic too: requests of different widths are valid.</summary>
    public static byte[] CreateVariableWidthIdentity()
    {
        var batch = new TensorShapeProto.Types.Dimension { DimParam = BatchDimension };
        var width = new TensorShapeProto.Types.Dimension { DimParam = "width" };
        var graph = new GraphProto { Name = "identity_variable_width" };
        graph.Input.Add(ValueInfo(IdentityInputName, TensorProto.Types.DataType.Float, batch, width));
        graph.Node.Add(Node("Identity", "identity", [IdentityInputName], [IdentityOutputName]));
        graph.Output.Add(ValueInfo(IdentityOutputName, TensorProto.Types.DataType.Float, batch.Clone(), width.Clone()));
        return Serialize(graph);
    }

    /// <summary>
    /// The default MLP truncated to half its length: the protobuf is cut mid-initializer, so
    /// ONNX Runtime fails to parse it.
    /// </summary>
    public static byte[] CreateCorrupt()
    {
        var model = CreateMlp(MlpWeights.Create(MlpWeights.DefaultSeed));
        return model.AsSpan(0, model.Length / 2).ToArray();
    }

    /// <summary>Writes <paramref name="model"/> to {basePath}/{version}/model.onnx and returns that path.</summary>
    public static string WriteVersion(string basePath, long version, byte[] model)
    {
        ArgumentNullException.ThrowIfNull(basePath);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(version);

        var directory = Path.Combine(basePath, version.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "model.onnx");
        File.WriteAllBytes(path, model);
        return path;
    }

    /// <summary>Maps our element type to the ONNX TensorProto data type.</summary>
    public static TensorProto.Types.DataType ToOnnxDataType(FixtureElementType elementType) => elementType switch
    {
        FixtureElementType.Float => TensorProto.Types.DataType.Float,
        FixtureElementType.Double => TensorProto.Types.DataType.Double,
        FixtureElementType.Int32 => TensorProto.Types.DataType.Int32,
        FixtureElementType.Int64 => TensorProto.Types.DataType.Int64,
        FixtureElementType.UInt8 => TensorProto.Types.DataType.Uint8,
        FixtureElementType.Bool => TensorProto.Types.DataType.Bool,
        FixtureElementType.Float16 => TensorProto.Types.DataType.Float16,
        FixtureElementType.String => TensorProto.Types.DataType.String,
        _ => throw new ArgumentOutOfRangeException(nameof(elementType), elementType, null),
    };

    private static byte[] BuildMlp(MlpWeights weights, bool fixedBatch)
    {
        ArgumentNullException.ThrowIfNull(weights);

        var graph = new GraphProto { Name = fixedBatch ? "mlp_fixed_batch" : "mlp" };
        graph.Initializer.Add(FloatTensor("W1", weights.W1, MlpWeights.InputSize, MlpWeights.HiddenSize));
        graph.Initializer.Add(FloatTensor("B1", weights.B1, MlpWeights.HiddenSize));
        graph.Initializer.Add(FloatTensor("W2", weights.W2, MlpWeights.HiddenSize, MlpWeights.OutputSize));
        graph.Initializer.Add(FloatTensor("B2", weights.B2, MlpWeights.OutputSize));

        graph.Input.Add(MlpValueInfo(MlpInputName, MlpWeights.InputSize, fixedBatch));
        graph.Node.Add(Node("Gemm", "fc1", [MlpInputName, "W1", "B1"], ["fc1_out"]));
        graph.Node.Add(Node("Relu", "relu", ["fc1_out"], ["relu_out"]));
        graph.Node.Add(Node("Gemm", "fc2", ["relu_out", "W2", "B2"], ["logits"]));
        var softmax = Node("Softmax", "softmax", ["logits"], [MlpOutputName]);
        softmax.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = -1 });
        graph.Node.Add(softmax);
        graph.Output.Add(MlpValueInfo(MlpOutputName, MlpWeights.OutputSize, fixedBatch));
        return Serialize(graph);
    }

    private static ValueInfoProto MlpValueInfo(string name, int width, bool fixedBatch) => fixedBatch
        ? ValueInfo(name, TensorProto.Types.DataType.Float, Fixed(1), Fixed(width))
        : BatchedValueInfo(name, TensorProto.Types.DataType.Float, width);

    private static byte[] Serialize(GraphProto graph)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ModelVersion = 1,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = OpsetVersion });

        // ModelProto has no map fields, so Google.Protobuf's output is byte-for-byte stable.
        return model.ToByteArray();
    }

    private static NodeProto Node(string opType, string name, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = opType, Name = name };
        node.Input.Add(inputs);
        node.Output.Add(outputs);
        return node;
    }

    private static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);
        tensor.FloatData.Add(values);
        return tensor;
    }

    private static float GlorotLimit(int fanIn, int fanOut) => (float)Math.Sqrt(6.0 / (fanIn + fanOut));

    /// <summary>
    /// A float tensor whose values are elements [<paramref name="offset"/>, offset + count) of the SplitMix64 stream
    /// seeded with <paramref name="seed"/>, mapped to [-limit, limit) as <see cref="MlpWeights"/> does, stored
    /// little-endian in raw_data.
    /// </summary>
    private static TensorProto RandomFloatTensor(string name, ulong seed, long offset, float limit, long[] dims)
    {
        var count = checked((int)dims.Aggregate(1L, (a, b) => a * b));
        var bytes = new byte[checked(count * sizeof(float))];
        const int chunk = 1 << 16;
        Parallel.For(0, (count + chunk - 1) / chunk, c =>
        {
            var end = Math.Min(count, (c + 1) * chunk);
            for (var i = c * chunk; i < end; i++)
            {
                var unit = (SplitMix64At(seed, offset + i) >> 11) * (1.0 / (1UL << 53));
                var value = (float)(((2.0 * unit) - 1.0) * limit);
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), value);
            }
        });

        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.Add(dims);

        // The array is never touched again, so wrapping it without a copy is safe.
        tensor.RawData = UnsafeByteOperations.UnsafeWrap(bytes);
        return tensor;
    }

    /// <summary>Element <paramref name="index"/> (0-based) of the SplitMix64 stream that starts at <paramref name="seed"/>.</summary>
    private static ulong SplitMix64At(ulong seed, long index)
    {
        unchecked
        {
            var z = seed + ((ulong)(index + 1) * 0x9E3779B97F4A7C15UL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    private static ValueInfoProto BatchedValueInfo(string name, TensorProto.Types.DataType dataType, int width) =>
        ValueInfo(name, dataType, new TensorShapeProto.Types.Dimension { DimParam = BatchDimension }, Fixed(width));

    private static TensorShapeProto.Types.Dimension Fixed(long value) => new() { DimValue = value };

    private static ValueInfoProto ValueInfo(
        string name, TensorProto.Types.DataType dataType, params TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(dims);
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto
            {
                TensorType = new TypeProto.Types.Tensor { ElemType = (int)dataType, Shape = shape },
            },
        };
    }
}
