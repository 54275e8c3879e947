using ServingStack.Inference.Batching;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// Inference on zeros before a version is AVAILABLE, so the first real request does not pay for ONNX Runtime's lazy
/// allocations and kernel choice (the latency spike users see on a freshly loaded TF Serving model). A batched model is
/// also warmed at every size its batches can have (each allowed batch size, else max_batch_size), since ONNX Runtime
/// plans memory per shape.
/// </summary>
public static class SessionWarmup
{
    public static void Run(OnnxModelSession session) => Run(session, null);

    public static void Run(OnnxModelSession session, BatchingOptions? batching)
    {
        RunOnce(session, 1);
        if (batching is not { Enabled: true } || !DynamicBatcher.CanBatch(session))
        {
            return;
        }

        var sizes = batching.AllowedBatchSizes.Count > 0 ? batching.AllowedBatchSizes : [batching.MaxBatchSize];
        foreach (var size in sizes)
        {
            if (size <= 1)
            {
                continue;
            }

            try
            {
                RunOnce(session, size);
            }
            catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
            {
                // Best effort: a model that cannot run this batch size loads as before, and its batches report the error.
                return;
            }
        }
    }

    private static void RunOnce(OnnxModelSession session, int batchSize)
    {
        var inputs = new InferenceTensor[session.Inputs.Count];
        try
        {
            for (var i = 0; i < inputs.Length; i++)
            {
                var spec = session.Inputs[i];
                var shape = new long[spec.Shape.Length];
                for (var d = 0; d < shape.Length; d++)
                {
                    shape[d] = spec.Shape[d] >= 0 ? spec.Shape[d] : d == 0 ? batchSize : 1;
                }

                inputs[i] = InferenceTensor.Allocate(spec.Name, spec.DataType, shape);
                if (spec.DataType == TensorDataType.Bytes)
                {
                    Array.Fill(inputs[i].Strings!, string.Empty);
                }
            }

            foreach (var output in session.Run(inputs, session.Outputs))
            {
                output.Dispose();
            }
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }
}
