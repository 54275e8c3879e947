using Microsoft.ML.OnnxRuntime;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols;

/// <summary>
/// The protocol-independent step: checks parsed inputs against what the model declares, picks the outputs, and runs.
/// Every client mistake comes back as an INVALID_ARGUMENT naming the input and what was expected.
/// </summary>
public static class ModelInvoker
{
    /// <summary>
    /// Validates a protocol's parsed inputs and requested outputs against the version's model, then runs them through
    /// the version (its dynamic batcher when batching is on). The caller keeps ownership of <paramref name="inputs"/>.
    /// </summary>
    public static ValueTask<InferenceOutcome> InvokeAsync(
        ModelVersion version, IReadOnlyList<InferenceTensor> inputs, IReadOnlyList<string>? requestedOutputs, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var session = version.Session;
        IReadOnlyList<TensorSpec>? selected = null;
        var error = ValidateInputs(session, inputs, out var ordered) ?? SelectOutputs(session, requestedOutputs, out selected);
        return error is null
            ? version.InferAsync(ordered, selected!, timeout, cancellationToken)
            : ValueTask.FromResult(InferenceOutcome.Failed(error));
    }

    /// <summary>
    /// Orders <paramref name="inputs"/> as the model declares them and checks datatype, rank and fixed dimensions.
    /// </summary>
    public static ServingError? ValidateInputs(OnnxModelSession session, IReadOnlyList<InferenceTensor> inputs, out InferenceTensor[] ordered)
    {
        var specs = session.Inputs;
        ordered = new InferenceTensor[specs.Count];
        foreach (var tensor in inputs)
        {
            var position = IndexOf(specs, tensor.Name);
            if (position < 0)
            {
                return ServingError.InvalidArgument($"unknown input '{ClientText.Cut(tensor.Name)}'; the model's inputs are {Describe(specs)}");
            }

            if (ordered[position] is not null)
            {
                return ServingError.InvalidArgument($"input '{ClientText.Cut(tensor.Name)}' is given twice");
            }

            ordered[position] = tensor;
        }

        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var tensor = ordered[i];
            if (tensor is null)
            {
                return ServingError.InvalidArgument($"missing input '{spec.Name}'; the model's inputs are {Describe(specs)}");
            }

            if (tensor.DataType != spec.DataType)
            {
                return ServingError.InvalidArgument(
                    $"input '{spec.Name}' has datatype {tensor.DataType.ToOpenInferenceName()} but the model expects {spec.DataType.ToOpenInferenceName()}");
            }

            if (tensor.Shape.Length != spec.Shape.Length)
            {
                return ServingError.InvalidArgument(
                    $"input '{spec.Name}' has shape {ShapeText.Format(tensor.Shape)} (rank {tensor.Shape.Length}) but the model expects shape {spec.FormatShape()} (rank {spec.Shape.Length})");
            }

            for (var d = 0; d < spec.Shape.Length; d++)
            {
                if (spec.Shape[d] >= 0 && tensor.Shape[d] != spec.Shape[d])
                {
                    var which = d == 0 ? "dimension 0 (the batch dimension)" : $"dimension {d}";
                    return ServingError.InvalidArgument(
                        $"input '{spec.Name}' has shape {ShapeText.Format(tensor.Shape)} but the model expects {spec.FormatShape()}: {which} must be {spec.Shape[d]}");
                }
            }
        }

        return null;
    }

    /// <summary>Every output, or the requested ones in the requested order.</summary>
    public static ServingError? SelectOutputs(OnnxModelSession session, IReadOnlyList<string>? requested, out IReadOnlyList<TensorSpec>? outputs)
    {
        outputs = session.Outputs;
        if (requested is null || requested.Count == 0)
        {
            return null;
        }

        var chosen = new TensorSpec[requested.Count];
        for (var i = 0; i < chosen.Length; i++)
        {
            var position = IndexOf(session.Outputs, requested[i]);
            if (position < 0)
            {
                return ServingError.InvalidArgument($"unknown output '{ClientText.Cut(requested[i])}'; the model's outputs are {Describe(session.Outputs)}");
            }

            chosen[i] = session.Outputs[position];
        }

        outputs = chosen;
        return null;
    }

    /// <summary>Runs validated inputs. ONNX Runtime's own complaints about values it was given are the client's (400).</summary>
    public static InferenceTensor[]? Run(OnnxModelSession session, InferenceTensor[] ordered, IReadOnlyList<TensorSpec> outputs, out ServingError? error)
    {
        try
        {
            error = null;
            return session.Run(ordered, outputs);
        }
        catch (OnnxRuntimeException ex) when (OnnxRuntimeErrors.IsInvalidInput(ex))
        {
            error = ServingError.InvalidArgument($"the model rejected the inputs: {ex.Message}");
            return null;
        }
        catch (OnnxRuntimeException ex)
        {
            error = new ServingError(ServingErrorCode.Internal, $"inference failed: {ex.Message}");
            return null;
        }
    }

    private static int IndexOf(IReadOnlyList<TensorSpec> specs, string name)
    {
        for (var i = 0; i < specs.Count; i++)
        {
            if (string.Equals(specs[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    public static string Describe(IReadOnlyList<TensorSpec> specs)
    {
        var parts = new string[specs.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = $"'{specs[i].Name}' ({specs[i].DataType.ToOpenInferenceName()} {specs[i].FormatShape()})";
        }

        return string.Join(", ", parts);
    }
}
