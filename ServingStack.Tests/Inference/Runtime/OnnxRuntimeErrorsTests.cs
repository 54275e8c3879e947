using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Runtime;

/// <summary>
/// ONNX Runtime failures are classified by the status code ORT reports, not by words in the message: real sessions
/// produce each fault (a shape ORT refuses; a Reshape that cannot fit, run by a node whose name reads like a code).
/// </summary>
public sealed class OnnxRuntimeErrorsTests : IDisposable
{
    private const string TrickyNodeName = "INVALID_ARGUMENT_InvalidArgument_reshape";
    private readonly TempModelRepository _repo = new();
    private readonly OnnxSessionFactory _sessions = new(NullLogger<OnnxSessionFactory>.Instance);

    public void Dispose() => _repo.Dispose();

    /// <summary>data FP32 [n] and shape INT64 [2] → Reshape (named <see cref="TrickyNodeName"/>) → y.</summary>
    private static byte[] ReshapeModel()
    {
        var graph = new GraphProto { Name = "reshape" };
        graph.Input.Add(Tensor("data", TensorProto.Types.DataType.Float, new TensorShapeProto.Types.Dimension { DimParam = "n" }));
        graph.Input.Add(Tensor("shape", TensorProto.Types.DataType.Int64, new TensorShapeProto.Types.Dimension { DimValue = 2 }));
        var node = new NodeProto { OpType = "Reshape", Name = TrickyNodeName };
        node.Input.Add(["data", "shape"]);
        node.Output.Add("y");
        graph.Node.Add(node);
        graph.Output.Add(Tensor("y", TensorProto.Types.DataType.Float,
            new TensorShapeProto.Types.Dimension { DimParam = "rows" }, new TensorShapeProto.Types.Dimension { DimParam = "cols" }));
        var model = new ModelProto { IrVersion = ModelFactory.IrVersion, ProducerName = "servingstack-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = ModelFactory.OpsetVersion });
        return model.ToByteArray();
    }

    private static ValueInfoProto Tensor(string name, TensorProto.Types.DataType type, params TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(dims);
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    private OnnxModelSession Open(string model, byte[] onnx) => _sessions.Create(_repo.AddVersion(model, 1, onnx), new ExecutionSettings(), model, 1);

    [Fact]
    public void A_shape_ORT_refuses_is_the_clients_fault_with_ORTs_message()
    {
        using var session = Open("mlp", ModelFactory.CreateMlp(MlpWeights.Create(1)));
        using var input = InferenceTensor.Allocate(ModelFactory.MlpInputName, TensorDataType.Fp32, [1, 5]);

        var outputs = ModelInvoker.Run(session, [input], session.Outputs, out var error);

        Assert.Null(outputs);
        Assert.Equal(ServingErrorCode.InvalidArgument, error!.Code);
        Assert.StartsWith("the model rejected the inputs: [ErrorCode:InvalidArgument] ", error.Message, StringComparison.Ordinal);
        Assert.Contains(ModelFactory.MlpInputName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_kernel_failure_is_a_server_error_even_when_the_message_names_InvalidArgument()
    {
        using var session = Open("reshape", ReshapeModel());
        using var data = InferenceTensor.Allocate("data", TensorDataType.Fp32, [6]);
        using var shape = InferenceTensor.Allocate("shape", TensorDataType.Int64, [2]);
        shape.GetSpan<long>()[0] = 4;
        shape.GetSpan<long>()[1] = 4; // 16 elements asked of 6: the kernel fails at run time

        var outputs = ModelInvoker.Run(session, [data, shape], session.Outputs, out var error);

        Assert.Null(outputs);
        Assert.Equal(ServingErrorCode.Internal, error!.Code);
        Assert.StartsWith("inference failed: [ErrorCode:", error.Message, StringComparison.Ordinal);
        Assert.Contains(TrickyNodeName, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_code_is_read_from_the_exception_ORT_raised()
    {
        var mlp = _repo.AddVersion("raw", 1, ModelFactory.CreateMlp(MlpWeights.Create(1)));
        using var session = new InferenceSession(mlp);
        using var input = OrtValue.CreateTensorValueFromMemory(new float[5], [1, 5]);
        using var runOptions = new RunOptions();

        var wrongShape = Assert.Throws<OnnxRuntimeException>(() => session.Run(runOptions, [ModelFactory.MlpInputName], [input], [ModelFactory.MlpOutputName]));
        Assert.Equal(OnnxRuntimeErrorCode.InvalidArgument, OnnxRuntimeErrors.CodeOf(wrongShape));
        Assert.True(OnnxRuntimeErrors.IsInvalidInput(wrongShape));
        Assert.Equal(ServingErrorCode.InvalidArgument, OnnxRuntimeErrors.Classify(wrongShape));

        var missing = Assert.ThrowsAny<OnnxRuntimeException>(() => new InferenceSession(Path.Combine(_repo.Root, "no-such-model.onnx")));
        Assert.Equal(OnnxRuntimeErrorCode.NoSuchFile, OnnxRuntimeErrors.CodeOf(missing));
        Assert.Equal(ServingErrorCode.Internal, OnnxRuntimeErrors.Classify(missing));
    }
}
