namespace ServingStack.Inference.Runtime;

/// <summary>
/// One inference on zeros before a version is AVAILABLE, so the first real request does not pay for ONNX Runtime's
/// lazy allocations and kernel choice (the latency spike users see on a freshly loaded TF Serving model).
/// </summary>
public static class SessionWarmup
{
    public static void Run(OnnxModelSession session)
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
                    shape[d] = spec.Shape[d] < 0 ? 1 : spec.Shape[d];
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
