namespace ServingStack.Inference.Batching;

/// <summary>
/// Dynamic batching settings with TF Serving's names (its <c>--batching_parameters_file</c> fields). Server-wide
/// defaults come from that file; a model's <c>batching</c> block overrides them field by field.
/// </summary>
public sealed class BatchingOptions
{
    /// <summary>Whether requests to the model are batched at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Most rows in one batch.</summary>
    public int MaxBatchSize { get; set; } = 32;

    /// <summary>
    /// How long the oldest queued request may wait for a fuller batch. 0 sends whatever is queued as soon as a batch
    /// thread is free: no added latency when idle, natural batching under load.
    /// </summary>
    public long BatchTimeoutMicros { get; set; }

    /// <summary>Queue bound, in batches of <see cref="MaxBatchSize"/> rows; beyond it requests are refused at once (429).</summary>
    public int MaxEnqueuedBatches { get; set; } = 64;

    /// <summary>Batches run in parallel.</summary>
    public int NumBatchThreads { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Sizes a batch is padded up to (increasing, the last equal to <see cref="MaxBatchSize"/>); empty: no padding.</summary>
    public List<int> AllowedBatchSizes { get; set; } = [];

    /// <summary>Whether a request with more rows than <see cref="MaxBatchSize"/> is split across batches (else refused).</summary>
    public bool EnableLargeBatchSplitting { get; set; } = true;

    public BatchingOptions Clone()
    {
        var copy = (BatchingOptions)MemberwiseClone();
        copy.AllowedBatchSizes = [.. AllowedBatchSizes];
        return copy;
    }

    /// <summary>The padded size for <paramref name="rows"/> rows.</summary>
    public int PaddedSize(int rows)
    {
        foreach (var size in AllowedBatchSizes)
        {
            if (size >= rows)
            {
                return size;
            }
        }

        return rows;
    }
}
