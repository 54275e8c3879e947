using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ServingStack.Bench.Inputs;
using ServingStack.Bench.Load;

namespace ServingStack.Bench.InProc;

/// <summary>
/// One batch size of <c>inproc</c>: each worker owns input OrtValues filled once with random data and, where every
/// output shape is known, preallocated output OrtValues, so <see cref="SendAsync"/> is one
/// <see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue})"/>
/// and nothing else: the ceiling a server on this machine can approach.
/// </summary>
public sealed class InprocTarget : ILoadTarget, IDisposable
{
    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly OrtValue[][] _inputs;
    private readonly OrtValue[]?[] _outputs;
    private readonly RunOptions[] _runOptions;

    public InprocTarget(InferenceSession session, int batchSize, int concurrency, int seed)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        RowsPerRequest = batchSize;
        _inputNames = [.. session.InputMetadata.Keys];
        _outputNames = [.. session.OutputMetadata.Keys];
        var inputShapes = _inputNames.Select(n => Shape(n, session.InputMetadata[n], batchSize, isInput: true)!).ToArray();
        var outputShapes = _outputNames.Select(n => Shape(n, session.OutputMetadata[n], batchSize, isInput: false)).ToArray();
        var preallocateOutputs = outputShapes.All(s => s is not null);

        _inputs = new OrtValue[concurrency][];
        _outputs = new OrtValue[concurrency][];
        _runOptions = new RunOptions[concurrency];
        try
        {
            for (var w = 0; w < concurrency; w++)
            {
                var random = new SplitMix64(seed + w);
                _runOptions[w] = new RunOptions();
                _inputs[w] = new OrtValue[_inputNames.Length];
                for (var i = 0; i < _inputNames.Length; i++)
                {
                    var type = session.InputMetadata[_inputNames[i]].ElementDataType;
                    _inputs[w][i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, inputShapes[i]);
                    FillRandom(_inputs[w][i], type, ref random, _inputNames[i]);
                }

                if (preallocateOutputs)
                {
                    _outputs[w] = new OrtValue[_outputNames.Length];
                    for (var o = 0; o < _outputNames.Length; o++)
                    {
                        var type = session.OutputMetadata[_outputNames[o]].ElementDataType;
                        _outputs[w]![o] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, outputShapes[o]!);
                    }
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        OutputsPreallocated = preallocateOutputs;
        InputShapes = inputShapes;
    }

    public int RowsPerRequest { get; }

    public bool RunsSynchronously => true;

    /// <summary>Whether outputs are preallocated (every output shape known once the batch is fixed).</summary>
    public bool OutputsPreallocated { get; }

    public IReadOnlyList<long[]> InputShapes { get; }

    public ValueTask<RequestOutcome> SendAsync(int worker, CancellationToken cancellationToken)
    {
        Run(worker);
        return ValueTask.FromResult(RequestOutcome.Success);
    }

    /// <summary>One run as worker <paramref name="worker"/>; exceptions propagate (used to check a batch size works).</summary>
    public void Run(int worker)
    {
        if (_outputs[worker] is { } outputs)
        {
            _session.Run(_runOptions[worker], _inputNames, _inputs[worker], _outputNames, outputs);
        }
        else
        {
            using var results = _session.Run(_runOptions[worker], _inputNames, _inputs[worker], _outputNames);
        }
    }

    public void Dispose()
    {
        foreach (var values in _inputs.Concat(_outputs))
        {
            foreach (var value in values ?? [])
            {
                value?.Dispose();
            }
        }

        foreach (var options in _runOptions)
        {
            options?.Dispose();
        }
    }

    /// <summary>The metadata's dims with a symbolic dim 0 set to the batch size; null for an output with another unknown dim.</summary>
    private static long[]? Shape(string name, NodeMetadata metadata, int batchSize, bool isInput)
    {
        if (!metadata.IsTensor)
        {
            return isInput
                ? throw new BenchException($"Input '{name}' is not a tensor ({metadata.OnnxValueType}); inproc only feeds tensors.")
                : null;
        }

        var dims = metadata.Dimensions.Select(d => (long)d).ToArray();
        for (var d = 0; d < dims.Length; d++)
        {
            if (dims[d] >= 0)
            {
                continue;
            }

            if (d == 0)
            {
                dims[0] = batchSize;
            }
            else if (isInput)
            {
                throw new BenchException($"Input '{name}' has a variable dimension {d} besides the batch; inproc can't choose its size.");
            }
            else
            {
                return null;
            }
        }

        if (isInput && dims.Length > 0 && metadata.Dimensions[0] >= 0 && dims[0] != batchSize)
        {
            throw new BenchException($"Input '{name}' has a fixed batch of {dims[0]}; batch size {batchSize} can't be fed.");
        }

        return dims;
    }

    private static void FillRandom(OrtValue value, TensorElementType type, ref SplitMix64 random, string name)
    {
        switch (type)
        {
            case TensorElementType.Float: Fill(value.GetTensorMutableDataAsSpan<float>(), ref random, static (r, _) => (float)r, integers: false); break;
            case TensorElementType.Double: Fill(value.GetTensorMutableDataAsSpan<double>(), ref random, static (r, _) => r, integers: false); break;
            case TensorElementType.Float16: Fill(value.GetTensorMutableDataAsSpan<Float16>(), ref random, static (r, _) => (Float16)(float)r, integers: false); break;
            case TensorElementType.BFloat16: Fill(value.GetTensorMutableDataAsSpan<BFloat16>(), ref random, static (r, _) => (BFloat16)(float)r, integers: false); break;
            case TensorElementType.Int8: Fill(value.GetTensorMutableDataAsSpan<sbyte>(), ref random, static (_, i) => (sbyte)i, integers: true); break;
            case TensorElementType.UInt8: Fill(value.GetTensorMutableDataAsSpan<byte>(), ref random, static (_, i) => (byte)i, integers: true); break;
            case TensorElementType.Int16: Fill(value.GetTensorMutableDataAsSpan<short>(), ref random, static (_, i) => (short)i, integers: true); break;
            case TensorElementType.UInt16: Fill(value.GetTensorMutableDataAsSpan<ushort>(), ref random, static (_, i) => (ushort)i, integers: true); break;
            case TensorElementType.Int32: Fill(value.GetTensorMutableDataAsSpan<int>(), ref random, static (_, i) => i, integers: true); break;
            case TensorElementType.UInt32: Fill(value.GetTensorMutableDataAsSpan<uint>(), ref random, static (_, i) => (uint)i, integers: true); break;
            case TensorElementType.Int64: Fill(value.GetTensorMutableDataAsSpan<long>(), ref random, static (_, i) => i, integers: true); break;
            case TensorElementType.UInt64: Fill(value.GetTensorMutableDataAsSpan<ulong>(), ref random, static (_, i) => (ulong)i, integers: true); break;
            case TensorElementType.Bool: Fill(value.GetTensorMutableDataAsSpan<bool>(), ref random, static (r, _) => r >= 0.5, integers: false); break;
            default: throw new BenchException($"Input '{name}' is {type}, which inproc can't generate.");
        }
    }

    /// <summary>Floating-point values uniform in [0, 1); integers uniform in [0, 100).</summary>
    private static void Fill<T>(Span<T> span, ref SplitMix64 random, Func<double, int, T> convert, bool integers)
    {
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = integers ? convert(0, random.NextInt(100)) : convert(random.NextDouble(), 0);
        }
    }
}
