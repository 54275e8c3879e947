namespace ServingStack.AppHost.Hosting;

/// <summary>TF Serving's batching parameters (<c>--batching_parameters_file</c>) for every model of one service.</summary>
public sealed record BatchingSettings(int MaxBatchSize, TimeSpan BatchTimeout, int MaxEnqueuedBatches, int NumBatchThreads);
