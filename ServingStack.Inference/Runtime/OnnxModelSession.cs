using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// One ONNX Runtime session for one model version. Thread-safe: ONNX Runtime allows concurrent <c>Run</c> calls.
/// Inputs are handed to ONNX Runtime as <see cref="OrtValue"/>s over the request's own (pinned) buffers, so the only copy
/// on the way in is the protocol parse and the only copy on the way out is into the response tensor.
/// </summary>
public sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    internal OnnxModelSession(InferenceSession session, string executionProvider, string? fallbackReason)
    {
        _session = session;
        ExecutionProvider = executionProvider;
        FallbackReason = fallbackReason;
        UseIoBinding = string.Equals(executionProvider, "CUDA", StringComparison.Ordinal);
        Inputs = ReadSpecs(session.InputNames, session.InputMetadata);
        Outputs = ReadSpecs(session.OutputNames, session.OutputMetadata);
    }

    /// <summary>The provider actually in use: <c>CUDA</c> or <c>CPU</c>.</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why CUDA was asked for but CPU is used; null otherwise.</summary>
    public string? FallbackReason { get; }

    /// <summary>
    /// Whether runs go through an <see cref="OrtIoBinding"/>: on CUDA the host inputs are bound as they are (copied to the
    /// device once) and the outputs are bound to host memory (copied back once, by ONNX Runtime, with nothing left on
    /// the device to fetch). On by default for CUDA; a CPU session can use it too (tests do), with the same results.
    /// </summary>
    internal bool UseIoBinding { get; set; }

    public IReadOnlyList<TensorSpec> Inputs { get; }

    public IReadOnlyList<TensorSpec> Outputs { get; }

    /// <summary>
    /// Runs the model. <paramref name="inputs"/> must be in the order of <see cref="Inputs"/> and already validated;
    /// the returned tensors are owned by the caller.
    /// </summary>
    public InferenceTensor[] Run(IReadOnlyList<InferenceTensor> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        var count = inputs.Count;
        var names = new string[count];
        var values = new OrtValue[count];
        var pins = new MemoryHandle[count];
        var outputNames = new string[outputs.Count];
        for (var i = 0; i < outputNames.Length; i++)
        {
            outputNames[i] = outputs[i].Name;
        }

        try
        {
            for (var i = 0; i < count; i++)
            {
                var tensor = inputs[i];
                names[i] = tensor.Name;
                values[i] = CreateInput(tensor, ref pins[i]);
            }

            if (UseIoBinding)
            {
                return RunBound(names, values, outputNames);
            }

            using var results = _session.Run(_runOptions, names, values, outputNames);
            var tensors = new InferenceTensor[results.Count];
            var index = 0;
            foreach (var result in results)
            {
                tensors[index] = CopyOutput(outputNames[index], result);
                index++;
            }

            return tensors;
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                values[i]?.Dispose();
                pins[i].Dispose();
            }
        }
    }

    private InferenceTensor[] RunBound(string[] names, OrtValue[] values, string[] outputNames)
    {
        using var binding = _session.CreateIoBinding();
        for (var i = 0; i < names.Length; i++)
        {
            binding.BindInput(names[i], values[i]);
        }

        foreach (var name in outputNames)
        {
            binding.BindOutputToDevice(name, OrtMemoryInfo.DefaultInstance);
        }

        binding.SynchronizeBoundInputs();
        _session.RunWithBinding(_runOptions, binding);
        binding.SynchronizeBoundOutputs();
        using var results = binding.GetOutputValues();
        var tensors = new InferenceTensor[results.Count];
        for (var i = 0; i < tensors.Length; i++)
        {
            tensors[i] = CopyOutput(outputNames[i], results[i]);
        }

        return tensors;
    }

    private static unsafe OrtValue CreateInput(InferenceTensor tensor, ref MemoryHandle pin)
    {
        if (tensor.DataType == TensorDataType.Bytes)
        {
            var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Shape);
            var strings = tensor.Strings!;
            for (var j = 0; j < strings.Length; j++)
            {
                value.StringTensorSetElementAt(strings[j] ?? string.Empty, j);
            }

            return value;
        }

        pin = tensor.Memory.Pin();
        return OrtValue.CreateTensorValueWithData(
            OrtMemoryInfo.DefaultInstance, tensor.DataType.ToOnnx(), tensor.Shape, (IntPtr)pin.Pointer, tensor.ByteLength);
    }

    private static InferenceTensor CopyOutput(string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        if (!TensorDataTypes.TryFromOnnx(info.ElementDataType, out var dataType))
        {
            throw new NotSupportedException($"output '{name}' has element type {info.ElementDataType}, which the server cannot return");
        }

        if (dataType == TensorDataType.Bytes)
        {
            return InferenceTensor.FromStrings(name, info.Shape, value.GetStringTensorAsArray());
        }

        var tensor = InferenceTensor.AllocateUninitialized(name, dataType, info.Shape);
        value.GetTensorMutableRawData().CopyTo(tensor.Bytes);
        return tensor;
    }

    private static TensorSpec[] ReadSpecs(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var specs = new TensorSpec[names.Count];
        for (var i = 0; i < specs.Length; i++)
        {
            var node = metadata[names[i]];
            if (!node.IsTensor || !TensorDataTypes.TryFromOnnx(node.ElementDataType, out var dataType))
            {
                throw new NotSupportedException(
                    $"'{names[i]}' is a {node.OnnxValueType} of {node.ElementDataType}; the server serves tensors of the Open Inference datatypes only");
            }

            var shape = new long[node.Dimensions.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                shape[d] = node.Dimensions[d] < 0 ? -1 : node.Dimensions[d];
            }

            specs[i] = new TensorSpec(names[i], dataType, shape);
        }

        return specs;
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
