using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>The protocol-independent part of a gRPC inference call, shared by the Open Inference and TF Serving services.</summary>
public static class GrpcInference
{
    /// <summary>
    /// Checks client-named inputs and outputs against the model before <see cref="ModelInvoker"/> does, so an unknown
    /// name comes back cut to <see cref="ClientText.MaxEchoedLength"/> characters (ModelInvoker repeats names whole).
    /// </summary>
    public static ServingError? CheckNames(OnnxModelSession session, IEnumerable<string> inputs, IReadOnlyList<string>? outputs)
    {
        foreach (var name in inputs)
        {
            if (!Contains(session.Inputs, name))
            {
                return ServingError.InvalidArgument($"unknown input '{ClientText.Cut(name)}'; the model's inputs are {ModelInvoker.Describe(session.Inputs)}");
            }
        }

        if (outputs is not null)
        {
            foreach (var name in outputs)
            {
                if (!Contains(session.Outputs, name))
                {
                    return ServingError.InvalidArgument($"unknown output '{ClientText.Cut(name)}'; the model's outputs are {ModelInvoker.Describe(session.Outputs)}");
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Validates and runs the inputs (through the version's batcher when batching is on) within the call's deadline.
    /// A call whose client is gone, or whose deadline passes, comes back as CANCELLED or DEADLINE_EXCEEDED (its outputs,
    /// if any, disposed): a result nobody will read is never counted as OK.
    /// </summary>
    public static async ValueTask<InferenceOutcome> InvokeAsync(
        ModelVersion version, IReadOnlyList<InferenceTensor> inputs, IReadOnlyList<string>? outputs, GrpcCallDeadline? deadline, TimeProvider time, CancellationToken cancellationToken)
    {
        if (deadline is not null && deadline.Remaining(time) <= TimeSpan.Zero)
        {
            return InferenceOutcome.Failed(new ServingError(ServingErrorCode.DeadlineExceeded,
                $"the deadline of {deadline.Budget.TotalMilliseconds:F0} ms passed before the call could run"));
        }

        InferenceOutcome outcome;
        try
        {
            outcome = await ModelInvoker.InvokeAsync(version, inputs, outputs, deadline?.Remaining(time), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return InferenceOutcome.Failed(GrpcErrors.Abandoned(deadline, time));
        }

        if (outcome.Error is { Code: ServingErrorCode.Cancelled })
        {
            return InferenceOutcome.Failed(GrpcErrors.Abandoned(deadline, time));
        }

        if (outcome.Outputs is { } produced && (cancellationToken.IsCancellationRequested || deadline?.Remaining(time) <= TimeSpan.Zero))
        {
            foreach (var output in produced)
            {
                output.Dispose();
            }

            return InferenceOutcome.Failed(GrpcErrors.Abandoned(deadline, time));
        }

        return outcome;
    }

    private static bool Contains(IReadOnlyList<TensorSpec> specs, string name)
    {
        foreach (var spec in specs)
        {
            if (string.Equals(spec.Name, name, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
