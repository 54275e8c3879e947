using System.Text.Json;

namespace ServingStack.Bench.Inputs;

/// <summary>Builds the tensors a run sends: random ones of the model's shape, or those of an Open Inference JSON body.</summary>
public static class InputFactory
{
    private const int MaxElements = 1 << 28;

    /// <summary>
    /// Random inputs for <paramref name="signature"/>: dim 0 = -1 becomes <paramref name="rows"/>; floating-point values
    /// are uniform in [0, 1), integers in [0, 100), BYTES 8 lowercase letters. Throws with a readable message when a
    /// shape can't be filled (another variable dimension, an unknown datatype).
    /// </summary>
    public static IReadOnlyList<InputTensor> Random(ModelSignature signature, int rows, int seed, ICollection<string> notes)
    {
        ArgumentNullException.ThrowIfNull(signature);
        ArgumentNullException.ThrowIfNull(notes);
        if (signature.Inputs.Count == 0)
        {
            throw new InvalidOperationException($"Model '{signature.Name}' has no inputs in its metadata.");
        }

        var random = new SplitMix64(seed);
        var tensors = new List<InputTensor>();
        foreach (var spec in signature.Inputs)
        {
            if (!Datatypes.IsKnown(spec.Datatype))
            {
                throw new InvalidOperationException($"Input '{spec.Name}' has datatype '{spec.Datatype}', which the tool can't generate.");
            }

            var shape = spec.Shape.ToArray();
            for (var d = 0; d < shape.Length; d++)
            {
                if (shape[d] >= 0)
                {
                    continue;
                }

                if (d != 0)
                {
                    throw new InvalidOperationException(
                        $"Input {spec} has a variable dimension {d} besides the batch; give the input with --input PATH.json.");
                }

                shape[0] = rows;
            }

            if (shape.Length > 0 && spec.Shape[0] >= 0 && spec.Shape[0] != rows)
            {
                notes.Add($"Input '{spec.Name}' has a fixed batch of {spec.Shape[0]}; each request carries {spec.Shape[0]} row(s), not {rows}.");
            }

            var count = shape.Aggregate(1L, (a, b) => a * b);
            if (count > MaxElements)
            {
                throw new InvalidOperationException($"Input '{spec.Name}' would have {count} elements; lower --rows-per-request.");
            }

            if (spec.Datatype == Datatypes.Bytes)
            {
                var strings = new string[count];
                for (var i = 0; i < strings.Length; i++)
                {
                    strings[i] = string.Create(8, random.NextUInt64(), (span, bits) =>
                    {
                        for (var c = 0; c < span.Length; c++)
                        {
                            span[c] = (char)('a' + (int)((bits >> (c * 8)) % 26));
                        }
                    });
                }

                tensors.Add(new InputTensor(spec.Name, spec.Datatype, shape, null, strings));
                continue;
            }

            var numbers = new double[count];
            for (var i = 0; i < numbers.Length; i++)
            {
                numbers[i] = spec.Datatype switch
                {
                    Datatypes.Bool => random.NextInt(2),
                    Datatypes.Fp32 or Datatypes.Fp16 or Datatypes.Bf16 => (float)random.NextDouble(),
                    Datatypes.Fp64 => random.NextDouble(),
                    _ => random.NextInt(100),
                };
            }

            tensors.Add(new InputTensor(spec.Name, spec.Datatype, shape, numbers, null));
        }

        return tensors;
    }

    /// <summary>
    /// Reads an Open Inference request body: <c>{"inputs": [{"name", "datatype", "shape", "data"}]}</c>, data flat or
    /// nested, row-major; BOOL as true/false, BYTES as strings.
    /// </summary>
    public static IReadOnlyList<InputTensor> FromJsonFile(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        if (!document.RootElement.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
        {
            throw new InvalidDataException($"'{path}' must hold an object with a non-empty \"inputs\" array, as an Open Inference infer request does.");
        }

        var tensors = new List<InputTensor>();
        foreach (var input in inputs.EnumerateArray())
        {
            var name = RequireString(input, "name", path);
            var datatype = RequireString(input, "datatype", path).ToUpperInvariant();
            if (!Datatypes.IsKnown(datatype))
            {
                throw new InvalidDataException($"'{path}': input '{name}' has unknown datatype '{datatype}'.");
            }

            if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"'{path}': input '{name}' needs a \"shape\" array.");
            }

            var shape = shapeElement.EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (shape.Any(d => d < 0))
            {
                throw new InvalidDataException($"'{path}': input '{name}' has a negative dimension in [{string.Join(',', shape)}].");
            }

            if (!input.TryGetProperty("data", out var data))
            {
                throw new InvalidDataException($"'{path}': input '{name}' needs \"data\".");
            }

            var flat = new List<JsonElement>();
            Flatten(data, flat);
            var expected = shape.Aggregate(1L, (a, b) => a * b);
            if (flat.Count != expected)
            {
                throw new InvalidDataException($"'{path}': input '{name}' has shape [{string.Join(',', shape)}] ({expected} elements) but {flat.Count} values.");
            }

            try
            {
                tensors.Add(datatype == Datatypes.Bytes
                    ? new InputTensor(name, datatype, shape, null, flat.Select(e => e.GetString() ?? string.Empty).ToArray())
                    : new InputTensor(name, datatype, shape, flat.Select(e => e.ValueKind switch
                    {
                        JsonValueKind.True => 1.0,
                        JsonValueKind.False => 0.0,
                        _ => e.GetDouble(),
                    }).ToArray(), null));
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"'{path}': input '{name}' has a value that is not a {datatype}: {ex.Message}", ex);
            }
        }

        var rows = tensors.Select(t => t.Rows).Distinct().ToArray();
        if (rows.Length > 1)
        {
            throw new InvalidDataException($"'{path}': inputs disagree on dim 0 (rows): {string.Join(", ", tensors)}.");
        }

        return tensors;
    }

    private static string RequireString(JsonElement element, string property, string path) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new InvalidDataException($"'{path}': every input needs a \"{property}\" string.");

    private static void Flatten(JsonElement element, List<JsonElement> into)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                Flatten(item, into);
            }
        }
        else
        {
            into.Add(element);
        }
    }
}
