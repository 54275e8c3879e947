using System.Text.Json;
using ServingStack.Inference.Configuration;

namespace ServingStack.Inference.Batching;

/// <summary>
/// Reads batching settings with TF Serving's field names from a <c>--batching_parameters_file</c> (JSON, or TF
/// Serving's text format with its <c>max_batch_size { value: 32 }</c> wrappers) or from a model's <c>batching</c> block.
/// </summary>
public static class BatchingOptionsReader
{
    private static readonly HashSet<string> s_repeatedTextFields = new(StringComparer.Ordinal) { "allowed_batch_sizes" };

    public static void ReadFile(string path, BatchingOptions target, List<string> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            errors.Add($"cannot read batching parameters file '{path}': {ex.Message}");
            return;
        }

        try
        {
            var trimmed = text.AsSpan().TrimStart();
            using var document = trimmed.Length > 0 && trimmed[0] == '{'
                ? JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                : JsonDocument.Parse(TextProtoParser.Parse(text, s_repeatedTextFields).ToJsonString());
            Apply(document.RootElement, $"batching parameters file '{path}'", target, errors);
        }
        catch (Exception ex) when (ex is JsonException or FormatException)
        {
            errors.Add($"batching parameters file '{path}' is not valid JSON or TF Serving text format: {ex.Message}");
        }
    }

    /// <summary>Overrides <paramref name="target"/>'s fields with those present in <paramref name="block"/>.</summary>
    public static void Apply(JsonElement block, string where, BatchingOptions target, List<string> errors)
    {
        if (block.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            target.Enabled = block.ValueKind == JsonValueKind.True;
            return;
        }

        if (block.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"{where}: expected an object of batching parameters or true/false");
            return;
        }

        // A batching block turns batching on for its model unless it says otherwise.
        target.Enabled = true;
        foreach (var field in block.EnumerateObject())
        {
            var at = $"{where}.{field.Name}";
            var value = Unwrap(field.Value);
            switch (field.Name)
            {
                case "enabled":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        target.Enabled = value.ValueKind == JsonValueKind.True;
                    }
                    else
                    {
                        errors.Add($"{at}: expected true or false");
                    }

                    break;
                case "max_batch_size":
                    target.MaxBatchSize = ReadInt(value, at, errors) ?? target.MaxBatchSize;
                    break;
                case "batch_timeout_micros":
                    target.BatchTimeoutMicros = ReadInt(value, at, errors) ?? target.BatchTimeoutMicros;
                    break;
                case "max_enqueued_batches":
                    target.MaxEnqueuedBatches = ReadInt(value, at, errors) ?? target.MaxEnqueuedBatches;
                    break;
                case "num_batch_threads":
                    target.NumBatchThreads = ReadInt(value, at, errors) ?? target.NumBatchThreads;
                    break;
                case "enable_large_batch_splitting":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        target.EnableLargeBatchSplitting = value.ValueKind == JsonValueKind.True;
                    }
                    else
                    {
                        errors.Add($"{at}: expected true or false");
                    }

                    break;
                case "allowed_batch_sizes":
                    target.AllowedBatchSizes.Clear();
                    if (value.ValueKind != JsonValueKind.Array)
                    {
                        errors.Add($"{at}: expected a list of batch sizes");
                        break;
                    }

                    foreach (var size in value.EnumerateArray())
                    {
                        if (ReadInt(Unwrap(size), at, errors) is { } s)
                        {
                            target.AllowedBatchSizes.Add(s);
                        }
                    }

                    break;
                case "pad_variable_length_inputs" or "max_execution_batch_size":
                    // TF Serving fields with no meaning here: accepted so its files load unchanged.
                    break;
                default:
                    errors.Add($"{at}: unknown field (expected max_batch_size, batch_timeout_micros, max_enqueued_batches, num_batch_threads, allowed_batch_sizes, enable_large_batch_splitting, enabled)");
                    break;
            }
        }
    }

    /// <summary>Every problem with <paramref name="options"/>, for the start-up validators.</summary>
    public static void Validate(string where, BatchingOptions options, List<string> errors)
    {
        if (options.MaxBatchSize < 1)
        {
            errors.Add($"{where}: max_batch_size must be >= 1, not {options.MaxBatchSize}.");
        }

        if (options.BatchTimeoutMicros < 0)
        {
            errors.Add($"{where}: batch_timeout_micros must be >= 0, not {options.BatchTimeoutMicros}.");
        }

        if (options.MaxEnqueuedBatches < 1)
        {
            errors.Add($"{where}: max_enqueued_batches must be >= 1, not {options.MaxEnqueuedBatches}.");
        }

        if (options.NumBatchThreads < 1)
        {
            errors.Add($"{where}: num_batch_threads must be >= 1, not {options.NumBatchThreads}.");
        }

        var sizes = options.AllowedBatchSizes;
        for (var i = 0; i < sizes.Count; i++)
        {
            if (sizes[i] < 1 || (i > 0 && sizes[i] <= sizes[i - 1]))
            {
                errors.Add($"{where}: allowed_batch_sizes must be positive and increasing, not [{string.Join(", ", sizes)}].");
                break;
            }
        }

        if (sizes.Count > 0 && sizes[^1] != options.MaxBatchSize)
        {
            errors.Add($"{where}: the last of allowed_batch_sizes ({sizes[^1]}) must equal max_batch_size ({options.MaxBatchSize}).");
        }
    }

    // TF Serving's text format wraps numbers: max_batch_size { value: 32 }.
    private static JsonElement Unwrap(JsonElement value) =>
        value.ValueKind == JsonValueKind.Object && value.TryGetProperty("value", out var inner) ? inner : value;

    private static int? ReadInt(JsonElement value, string where, List<string> errors)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i))
        {
            return i;
        }

        if (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), out i))
        {
            return i;
        }

        errors.Add($"{where}: expected an integer");
        return null;
    }
}
