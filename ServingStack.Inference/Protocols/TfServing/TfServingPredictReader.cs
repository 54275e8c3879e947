using System.Text.Json;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.TfServing;

/// <summary>
/// Reads a TF Serving predict body: the row format (<c>instances</c>, one entry per example) or the columnar format
/// (<c>inputs</c>, one tensor per input). The model's declared inputs give the datatypes to read values as.
/// </summary>
public static class TfServingPredictReader
{
    public static ServingError? Read(JsonElement root, IReadOnlyList<TensorSpec> specs, List<InferenceTensor> inputs, out bool rowFormat)
    {
        rowFormat = false;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return ServingError.InvalidArgument("the request body must be a JSON object with 'instances' or 'inputs'");
        }

        if (root.TryGetProperty("signature_name", out var signature) &&
            !(signature.ValueKind == JsonValueKind.String && signature.GetString() is "" or "serving_default"))
        {
            return ServingError.InvalidArgument(
                $"serving signature name {ClientText.Cut(signature.GetRawText())} not found; ONNX models have one signature, 'serving_default'");
        }

        var hasInstances = root.TryGetProperty("instances", out var instances);
        var hasInputs = root.TryGetProperty("inputs", out var columns);
        if (hasInstances && hasInputs)
        {
            return ServingError.InvalidArgument("the request has both 'instances' and 'inputs'; use one: 'instances' (row format) or 'inputs' (columnar format)");
        }

        if (!hasInstances && !hasInputs)
        {
            return ServingError.InvalidArgument("missing 'instances' or 'inputs' in the request body");
        }

        rowFormat = hasInstances;
        return hasInstances ? ReadRows(instances, specs, inputs) : ReadColumns(columns, specs, inputs);
    }

    private static ServingError? ReadRows(JsonElement instances, IReadOnlyList<TensorSpec> specs, List<InferenceTensor> inputs)
    {
        if (instances.ValueKind != JsonValueKind.Array)
        {
            return ServingError.InvalidArgument("'instances' must be a list with one entry per example");
        }

        if (instances.GetArrayLength() == 0)
        {
            return ServingError.InvalidArgument("'instances' is empty; send at least one example");
        }

        // One input: each instance is the value itself, or an object naming the input.
        var first = instances[0];
        if (specs.Count == 1 && !IsNamedInputs(first, specs))
        {
            var tensor = JsonTensorReader.ReadRows(specs[0].Name, specs[0].DataType, instances, static e => e, out var error);
            if (tensor is null)
            {
                return error;
            }

            inputs.Add(tensor);
            return null;
        }

        var index = 0;
        foreach (var instance in instances.EnumerateArray())
        {
            if (instance.ValueKind != JsonValueKind.Object)
            {
                return ServingError.InvalidArgument(
                    $"instances[{index}] must be an object of named inputs because the model has inputs {ModelInvoker.Describe(specs)}");
            }

            foreach (var property in instance.EnumerateObject())
            {
                if (!Contains(specs, property.Name))
                {
                    return ServingError.InvalidArgument($"instances[{index}] has unknown input '{ClientText.Cut(property.Name)}'; the model's inputs are {ModelInvoker.Describe(specs)}");
                }
            }

            foreach (var spec in specs)
            {
                if (!instance.TryGetProperty(spec.Name, out _))
                {
                    return ServingError.InvalidArgument($"instances[{index}] is missing input '{spec.Name}'");
                }
            }

            index++;
        }

        foreach (var spec in specs)
        {
            var name = spec.Name;
            var tensor = JsonTensorReader.ReadRows(name, spec.DataType, instances, e => e.GetProperty(name), out var error);
            if (tensor is null)
            {
                return error;
            }

            inputs.Add(tensor);
        }

        return null;
    }

    private static ServingError? ReadColumns(JsonElement columns, IReadOnlyList<TensorSpec> specs, List<InferenceTensor> inputs)
    {
        if (specs.Count == 1 && !IsNamedInputs(columns, specs))
        {
            var tensor = JsonTensorReader.ReadNested(specs[0].Name, specs[0].DataType, columns, out var error);
            if (tensor is null)
            {
                return error;
            }

            inputs.Add(tensor);
            return null;
        }

        if (columns.ValueKind != JsonValueKind.Object)
        {
            return ServingError.InvalidArgument($"'inputs' must be an object of named inputs because the model has inputs {ModelInvoker.Describe(specs)}");
        }

        foreach (var property in columns.EnumerateObject())
        {
            var spec = Find(specs, property.Name);
            if (spec is null)
            {
                return ServingError.InvalidArgument($"unknown input '{ClientText.Cut(property.Name)}'; the model's inputs are {ModelInvoker.Describe(specs)}");
            }

            var tensor = JsonTensorReader.ReadNested(spec.Name, spec.DataType, property.Value, out var error);
            if (tensor is null)
            {
                return error;
            }

            inputs.Add(tensor);
        }

        return null;
    }

    /// <summary>An object keyed by input names (not a <c>{"b64": ...}</c> value).</summary>
    private static bool IsNamedInputs(JsonElement value, IReadOnlyList<TensorSpec> specs)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (value.TryGetProperty("b64", out _) && !Contains(specs, "b64"))
        {
            return false;
        }

        return true;
    }

    private static bool Contains(IReadOnlyList<TensorSpec> specs, string name) => Find(specs, name) is not null;

    private static TensorSpec? Find(IReadOnlyList<TensorSpec> specs, string name)
    {
        foreach (var spec in specs)
        {
            if (string.Equals(spec.Name, name, StringComparison.Ordinal))
            {
                return spec;
            }
        }

        return null;
    }
}
