using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// One ONNX Runtime session for one model version. Thread-safe: ONNX Runtime allows concurrent <c>Run</c> calls.
/// Inputs are handed to ONNX Runtime as <see cref="OrtValue"/>s over the request's own (pinned) buffers, so the only copy
/// on the way in is the protocol parse. Outputs whose shape is known before the run (fixed dimensions, or a dimension 0
/// named like an input's dimension 0) are written by ONNX Runtime straight into the tensors the response is built from;
/// others are copied out once.
/// </summary>
public sealed class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly Dictionary<string, OutputLayout> _outputLayouts;

    // Cleared when a run with preallocated outputs fails although the run without them succeeds: the model's declared
    // output shapes do not hold at run time, so this session stops trusting them.
    private volatile bool _preallocateOutputs = true;

    internal OnnxModelSession(InferenceSession session, string executionProvider, string? fallbackReason)
    {
        _session = session;
        ExecutionProvider = executionProvider;
        FallbackReason = fallbackReason;
        UseIoBinding = string.Equals(executionProvider, "CUDA", StringComparison.Ordinal);
        Inputs = ReadSpecs(session.InputNames, session.InputMetadata);
        Outputs = ReadSpecs(session.OutputNames, session.OutputMetadata);
        _outputLayouts = ReadOutputLayouts(session);
    }

    /// <summary>Whether runs still try preallocated outputs (false once the declared shapes failed a run).</summary>
    internal bool TrustsDeclaredOutputShapes => _preallocateOutputs;

    /// <summary>Runs whose outputs ONNX Runtime wrote in place (no copy); tests read it.</summary>
    internal long PreallocatedRuns => Interlocked.Read(ref _preallocatedRuns);

    private long _preallocatedRuns;

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

            if (_preallocateOutputs && TryAllocateOutputs(inputs, outputNames) is { } preallocated)
            {
                try
                {
                    RunInto(names, values, outputNames, preallocated);
                    Interlocked.Increment(ref _preallocatedRuns);
                    return preallocated;
                }
                catch (OnnxRuntimeException)
                {
                    foreach (var tensor in preallocated)
                    {
                        tensor.Dispose();
                    }

                    // Run once more the ordinary way: if that succeeds, the declared shapes were wrong, not the request.
                    var copied = RunAndCopy(names, values, outputNames);
                    _preallocateOutputs = false;
                    return copied;
                }
            }

            return RunAndCopy(names, values, outputNames);
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

    private InferenceTensor[] RunAndCopy(string[] names, OrtValue[] values, string[] outputNames)
    {
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

    /// <summary>Output tensors of the shapes this run will produce, or null when one of them is not known in advance.</summary>
    private InferenceTensor[]? TryAllocateOutputs(IReadOnlyList<InferenceTensor> inputs, string[] outputNames)
    {
        foreach (var name in outputNames)
        {
            if (!_outputLayouts.ContainsKey(name))
            {
                return null;
            }
        }

        var tensors = new InferenceTensor[outputNames.Length];
        for (var o = 0; o < tensors.Length; o++)
        {
            var layout = _outputLayouts[outputNames[o]];
            var shape = (long[])layout.Shape.Clone();
            if (layout.BatchFrom is { } source)
            {
                var found = false;
                foreach (var input in inputs)
                {
                    if (string.Equals(input.Name, source, StringComparison.Ordinal) && input.Shape.Length > 0)
                    {
                        shape[0] = input.Shape[0];
                        found = true;
                        break;
                    }
                }

                if (!found)
                {
                    return null;
                }
            }

            tensors[o] = InferenceTensor.AllocateUninitialized(outputNames[o], layout.DataType, shape);
        }

        return tensors;
    }

    private unsafe void RunInto(string[] names, OrtValue[] values, string[] outputNames, InferenceTensor[] outputs)
    {
        var outputValues = new OrtValue[outputs.Length];
        var pins = new MemoryHandle[outputs.Length];
        try
        {
            for (var o = 0; o < outputs.Length; o++)
            {
                var tensor = outputs[o];
                pins[o] = tensor.Memory.Pin();
                outputValues[o] = OrtValue.CreateTensorValueWithData(
                    OrtMemoryInfo.DefaultInstance, tensor.DataType.ToOnnx(), tensor.Shape, (IntPtr)pins[o].Pointer, tensor.ByteLength);
            }

            _session.Run(_runOptions, names, values, outputNames, outputValues);
        }
        finally
        {
            for (var o = 0; o < outputs.Length; o++)
            {
                outputValues[o]?.Dispose();
                pins[o].Dispose();
            }
        }
    }

    /// <summary>
    /// The outputs whose shape a run can know beforehand: every dimension fixed but possibly the first, and a variable
    /// first dimension carrying the same name (dim_param) as some input's first dimension, whose size it then takes.
    /// </summary>
    private static Dictionary<string, OutputLayout> ReadOutputLayouts(InferenceSession session)
    {
        var layouts = new Dictionary<string, OutputLayout>(StringComparer.Ordinal);
        var inputNames = session.InputNames;
        foreach (var name in session.OutputNames)
        {
            var node = session.OutputMetadata[name];
            if (!node.IsTensor || !TensorDataTypes.TryFromOnnx(node.ElementDataType, out var dataType) || dataType == TensorDataType.Bytes)
            {
                continue;
            }

            var dims = node.Dimensions;
            var shape = new long[dims.Length];
            var known = true;
            for (var d = 0; d < dims.Length; d++)
            {
                shape[d] = dims[d];
                known &= dims[d] > 0 || d == 0;
            }

            string? batchFrom = null;
            if (known && dims.Length > 0 && dims[0] <= 0)
            {
                var symbol = node.SymbolicDimensions.Length > 0 ? node.SymbolicDimensions[0] : null;
                for (var i = 0; i < inputNames.Count && !string.IsNullOrEmpty(symbol); i++)
                {
                    var input = session.InputMetadata[inputNames[i]];
                    if (input.Dimensions.Length > 0 && input.Dimensions[0] <= 0 && input.SymbolicDimensions.Length > 0
                        && string.Equals(input.SymbolicDimensions[0], symbol, StringComparison.Ordinal))
                    {
                        batchFrom = inputNames[i];
                        break;
                    }
                }

                known = batchFrom is not null;
            }

            if (known)
            {
                layouts[name] = new OutputLayout(dataType, shape, batchFrom);
            }
        }

        return layouts;
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

    /// <summary>An output's element type and shape, and the input whose dimension 0 it shares (null: a fixed shape).</summary>
    private sealed record OutputLayout(TensorDataType DataType, long[] Shape, string? BatchFrom);
}
