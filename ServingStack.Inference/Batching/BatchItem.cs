using System.Diagnostics;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Batching;

/// <summary>
/// One request waiting in a batch queue. Its state moves once from pending to either taken (a batch thread runs it)
/// or abandoned (its caller gave up: deadline or cancellation), so a request is never both answered 504 and run.
/// </summary>
internal sealed class BatchItem(InferenceTensor[] inputs, IReadOnlyList<TensorSpec> outputs, int rows, long enqueuedAt)
{
    private const int Pending = 0;
    private const int Taken = 1;
    private const int Abandoned = 2;

    private readonly TaskCompletionSource<InferenceOutcome> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;

    public InferenceTensor[] Inputs { get; } = inputs;

    public IReadOnlyList<TensorSpec> Outputs { get; } = outputs;

    public int Rows { get; } = rows;

    /// <summary>When the request entered the queue, in the batcher's clock's timestamp units.</summary>
    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>The caller's span, captured on its thread so the batch span can join its trace.</summary>
    public ActivityContext Caller { get; } = Activity.Current?.Context ?? default;

    public Task<InferenceOutcome> Completion => _completion.Task;

    public bool IsAbandoned => Volatile.Read(ref _state) == Abandoned;

    public bool TryTake() => Interlocked.CompareExchange(ref _state, Taken, Pending) == Pending;

    public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Pending) == Pending;

    public void Complete(InferenceOutcome outcome) => _completion.TrySetResult(outcome);

    /// <summary>Whether <paramref name="other"/> may share a batch with this item: same non-batch dimensions, same outputs.</summary>
    public bool IsCompatible(BatchItem other)
    {
        if (!ReferenceEquals(Outputs, other.Outputs))
        {
            if (Outputs.Count != other.Outputs.Count)
            {
                return false;
            }

            for (var i = 0; i < Outputs.Count; i++)
            {
                if (!string.Equals(Outputs[i].Name, other.Outputs[i].Name, StringComparison.Ordinal))
                {
                    return false;
                }
            }
        }

        for (var i = 0; i < Inputs.Length; i++)
        {
            if (!Inputs[i].Shape.AsSpan(1).SequenceEqual(other.Inputs[i].Shape.AsSpan(1)))
            {
                return false;
            }
        }

        return true;
    }
}
