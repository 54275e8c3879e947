using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Batching;

/// <summary>
/// The batcher on its own: a real ONNX Runtime session on the MNIST-shaped MLP, a fake clock for the batch timeout (no
/// sleeps), and a run function that records each batch and can hold it, to fill the queue behind a running batch.
/// </summary>
public sealed class DynamicBatcherTests : IDisposable
{
    private static readonly MlpWeights Weights = MlpWeights.Create(42);
    private readonly TempModelRepository _repo = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ServingMetrics _metrics;
    private readonly OnnxModelSession _session;
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<RecordedRun> _runs = new();
    private readonly ManualResetEventSlim _open = new(true);
    private DynamicBatcher? _batcher;

    public DynamicBatcherTests()
    {
        _metrics = new ServingMetrics(_services.GetRequiredService<IMeterFactory>());
        var path = _repo.AddVersion("mnist", 1, ModelFactory.CreateMlp(Weights));
        _session = new OnnxSessionFactory(NullLogger<OnnxSessionFactory>.Instance).Create(path, new ExecutionSettings(), "mnist", 1);
    }

    public void Dispose()
    {
        _open.Set();
        _batcher?.Dispose();
        _session.Dispose();
        _metrics.Dispose();
        _services.Dispose();
        _open.Dispose();
        _repo.Dispose();
    }

    private sealed record RecordedRun(int Rows, int ThreadId, float[] Input);

    private DynamicBatcher Start(BatchingOptions options) => _batcher = new DynamicBatcher(Run, options, _metrics, "mnist", 1, _time);

    /// <summary>The real session's run, recorded (rows, thread, the stacked input) and held while <see cref="_open"/> is reset.</summary>
    private InferenceTensor[] Run(IReadOnlyList<InferenceTensor> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        _runs.Enqueue(new RecordedRun((int)inputs[0].Shape[0], Environment.CurrentManagedThreadId, inputs[0].GetSpan<float>().ToArray()));
        _open.Wait(TimeSpan.FromSeconds(30));
        return _session.Run(inputs, outputs);
    }

    private static BatchingOptions Options(int maxBatchSize, long timeoutMicros, int maxEnqueuedBatches = 64, int threads = 1, int[]? allowed = null, bool split = true) => new()
    {
        Enabled = true,
        MaxBatchSize = maxBatchSize,
        BatchTimeoutMicros = timeoutMicros,
        MaxEnqueuedBatches = maxEnqueuedBatches,
        NumBatchThreads = threads,
        AllowedBatchSizes = [.. allowed ?? []],
        EnableLargeBatchSplitting = split,
    };

    private static InferenceTensor Tensor(float[][] rows)
    {
        var tensor = InferenceTensor.AllocateUninitialized("x", TensorDataType.Fp32, [rows.Length, MlpWeights.InputSize]);
        var span = tensor.GetSpan<float>();
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r].CopyTo(span[(r * MlpWeights.InputSize)..]);
        }

        return tensor;
    }

    /// <summary>Submits one request; its input tensor is disposed once the answer is in, as the protocols do.</summary>
    private Task<InferenceOutcome> Submit(float[][] rows)
    {
        var input = Tensor(rows);
        var pending = _batcher!.SubmitAsync([input], _session.Outputs, null, CancellationToken.None);
        return Finish(pending, input);

        static async Task<InferenceOutcome> Finish(ValueTask<InferenceOutcome> pending, InferenceTensor input)
        {
            try
            {
                return await pending;
            }
            finally
            {
                input.Dispose();
            }
        }
    }

    /// <summary>Every row of the answer against the reference MLP, then the outputs are disposed.</summary>
    private static void AssertRows(float[][] rows, InferenceOutcome outcome)
    {
        Assert.True(outcome.Error is null, outcome.Error?.Message);
        var output = Assert.Single(outcome.Outputs!);
        try
        {
            Assert.Equal([rows.Length, MlpWeights.OutputSize], output.Shape);
            var values = output.GetSpan<float>();
            for (var r = 0; r < rows.Length; r++)
            {
                TfServingPredictTests.AssertClose(Weights.Evaluate(rows[r]), values.Slice(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
            }
        }
        finally
        {
            output.Dispose();
        }
    }

    private int[] RunRows() => [.. _runs.Select(r => r.Rows)];

    [Fact]
    public async Task Batches_hold_at_most_max_batch_size_rows_and_a_full_batch_goes_without_waiting_for_the_timeout()
    {
        Start(Options(maxBatchSize: 4, timeoutMicros: 1_000_000));
        var requests = Enumerable.Range(0, 10).Select(i => TestData.MnistRows(1, seed: 100 + i)).ToArray();

        var pending = requests.Select(Submit).ToArray();

        // The clock stands still: only full batches can run.
        await Eventually.TrueAsync(() => _runs.Count == 2, "two full batches");
        Assert.Equal([4, 4], RunRows());
        Assert.False(pending[8].IsCompleted || pending[9].IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        var outcomes = await Task.WhenAll(pending);
        Assert.Equal([4, 4, 2], RunRows());
        for (var i = 0; i < requests.Length; i++)
        {
            AssertRows(requests[i], outcomes[i]);
        }
    }

    [Fact]
    public async Task A_partial_batch_waits_batch_timeout_micros_on_the_clock_and_then_runs()
    {
        Start(Options(maxBatchSize: 8, timeoutMicros: 5_000));
        var requests = Enumerable.Range(0, 3).Select(i => TestData.MnistRows(1 + i, seed: 200 + i)).ToArray();

        var pending = requests.Select(Submit).ToArray();
        Assert.Equal(6, _batcher!.QueuedRows);

        _time.Advance(TimeSpan.FromMicroseconds(4_999));
        Assert.Empty(_runs);
        Assert.All(pending, p => Assert.False(p.IsCompleted));

        _time.Advance(TimeSpan.FromMicroseconds(1));
        var outcomes = await Task.WhenAll(pending);
        Assert.Equal([6], RunRows());
        Assert.Equal(0, _batcher.QueuedRows);
        for (var i = 0; i < requests.Length; i++)
        {
            AssertRows(requests[i], outcomes[i]);
        }
    }

    [Fact]
    public async Task A_partial_batch_is_padded_with_zero_rows_to_the_next_allowed_size_and_the_padding_is_dropped()
    {
        Start(Options(maxBatchSize: 8, timeoutMicros: 1_000, allowed: [2, 4, 8]));
        var three = TestData.MnistRows(3, seed: 300);
        var one = TestData.MnistRows(1, seed: 301);
        var two = TestData.MnistRows(2, seed: 302);

        var first = Submit(three);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        AssertRows(three, await first);

        var pending = new[] { Submit(one), Submit(two) };
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var outcomes = await Task.WhenAll(pending);
        AssertRows(one, outcomes[0]);
        AssertRows(two, outcomes[1]);

        // 3 rows ran as 4, 1 + 2 rows as 4; the padding rows were zeros.
        Assert.Equal([4, 4], RunRows());
        foreach (var (run, realRows) in _runs.Zip(new[] { 3, 3 }))
        {
            Assert.All(run.Input.AsSpan(realRows * MlpWeights.InputSize).ToArray(), value => Assert.Equal(0f, value));
        }

        Assert.Equal(three.SelectMany(r => r), _runs.First().Input.Take(3 * MlpWeights.InputSize));
        Assert.Equal(one.Concat(two).SelectMany(r => r), _runs.Last().Input.Take(3 * MlpWeights.InputSize));
    }

    [Fact]
    public async Task A_request_larger_than_max_batch_size_is_split_into_full_batches_and_answered_in_order()
    {
        Start(Options(maxBatchSize: 4, timeoutMicros: 0));
        var rows = TestData.MnistRows(10, seed: 400);

        var outcome = await Submit(rows);

        AssertRows(rows, outcome);
        Assert.Equal([4, 4, 2], RunRows());
    }

    [Fact]
    public async Task A_request_that_can_never_fit_is_refused_as_the_clients_error()
    {
        Start(Options(maxBatchSize: 4, timeoutMicros: 0, maxEnqueuedBatches: 2));

        var tooLarge = await Submit(TestData.MnistRows(9, seed: 500));

        Assert.Equal(ServingErrorCode.InvalidArgument, tooLarge.Error?.Code);
        Assert.Contains("9 rows", tooLarge.Error!.Message);
        Assert.Contains("at most max_enqueued_batches × max_batch_size = 8 rows", tooLarge.Error.Message);
        Assert.Empty(_runs);

        // Exactly the whole queue fits.
        var eight = TestData.MnistRows(8, seed: 501);
        AssertRows(eight, await Submit(eight));

        _batcher!.Dispose();
        Start(Options(maxBatchSize: 4, timeoutMicros: 0, split: false));
        var unsplit = await Submit(TestData.MnistRows(5, seed: 502));
        Assert.Equal(ServingErrorCode.InvalidArgument, unsplit.Error?.Code);
        Assert.Contains("at most max_batch_size = 4 rows per request", unsplit.Error!.Message);
    }

    [Fact]
    public async Task A_full_queue_refuses_at_once_with_resource_exhausted_and_every_queued_request_still_runs()
    {
        Start(Options(maxBatchSize: 2, timeoutMicros: 60_000_000, maxEnqueuedBatches: 1));
        _open.Reset();
        var running = new[] { TestData.MnistRows(1, seed: 600), TestData.MnistRows(1, seed: 601) };
        var runningTasks = running.Select(Submit).ToArray();
        await Eventually.TrueAsync(() => _runs.Count == 1, "the full batch to start running");

        // The queue holds 2 rows (one batch); a third row is one too many.
        var queued = new[] { TestData.MnistRows(1, seed: 602), TestData.MnistRows(1, seed: 603) };
        var queuedTasks = queued.Select(Submit).ToArray();
        var refused = await Submit(TestData.MnistRows(1, seed: 604));

        Assert.Equal(ServingErrorCode.ResourceExhausted, refused.Error?.Code);
        Assert.Contains("is full (2 rows waiting, limit max_enqueued_batches × max_batch_size = 2)", refused.Error!.Message);
        _open.Set();
        var outcomes = await Task.WhenAll(runningTasks.Concat(queuedTasks));
        var sent = running.Concat(queued).ToArray();
        for (var i = 0; i < sent.Length; i++)
        {
            AssertRows(sent[i], outcomes[i]);
        }

        Assert.Equal([2, 2], RunRows());
    }

    [Fact]
    public async Task Requests_of_different_non_batch_shapes_run_in_separate_batches()
    {
        var path = _repo.AddVersion("identity", 1, ModelFactory.CreateVariableWidthIdentity());
        using var identity = new OnnxSessionFactory(NullLogger<OnnxSessionFactory>.Instance).Create(path, new ExecutionSettings(), "identity", 1);
        var widths = new ConcurrentQueue<long>();
        _batcher = new DynamicBatcher((inputs, outputs) =>
        {
            widths.Enqueue(inputs[0].Shape[1]);
            return identity.Run(inputs, outputs);
        }, Options(maxBatchSize: 8, timeoutMicros: 1_000), _metrics, "identity", 1, _time);
        var inputs = new[] { (Width: 3, Seed: 1f), (Width: 5, Seed: 2f), (Width: 3, Seed: 3f) }
            .Select(w => InferenceTensor.AllocateUninitialized("x", TensorDataType.Fp32, [1, w.Width]))
            .ToArray();
        for (var i = 0; i < inputs.Length; i++)
        {
            inputs[i].GetSpan<float>().Fill(i + 1);
        }

        var pending = inputs.Select(input => _batcher.SubmitAsync([input], identity.Outputs, null, CancellationToken.None).AsTask()).ToArray();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var outcomes = await Task.WhenAll(pending);

        Assert.Equal([3L, 5L], widths.Order());
        for (var i = 0; i < inputs.Length; i++)
        {
            var output = Assert.Single(outcomes[i].Outputs!);
            Assert.Equal(inputs[i].Shape, output.Shape);
            Assert.All(output.GetSpan<float>().ToArray(), v => Assert.Equal(i + 1, v));
            output.Dispose();
            inputs[i].Dispose();
        }
    }

    [Fact]
    public async Task With_no_timeout_a_lone_request_runs_on_its_callers_thread()
    {
        Start(Options(maxBatchSize: 8, timeoutMicros: 0));
        var rows = TestData.MnistRows(2, seed: 700);
        var input = Tensor(rows);

        var pending = _batcher!.SubmitAsync([input], _session.Outputs, null, CancellationToken.None);

        // Answered before SubmitAsync returned, by a run on this thread: no hand-off to a batch thread and back.
        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(Environment.CurrentManagedThreadId, Assert.Single(_runs).ThreadId);
        AssertRows(rows, await pending);
        input.Dispose();
    }

    [Fact]
    public async Task Flush_sends_a_partial_batch_without_waiting_for_the_timeout()
    {
        Start(Options(maxBatchSize: 8, timeoutMicros: 60_000_000));
        var rows = TestData.MnistRows(3, seed: 800);
        var pending = Submit(rows);
        Assert.Equal(3, _batcher!.QueuedRows);

        _batcher.Flush();

        AssertRows(rows, await pending);
        Assert.Equal([3], RunRows());
    }

    [Fact]
    public async Task Shutdown_answers_every_queued_request_and_later_ones_are_refused_as_unavailable()
    {
        Start(Options(maxBatchSize: 2, timeoutMicros: 60_000_000));
        _open.Reset();
        var sent = Enumerable.Range(0, 5).Select(i => TestData.MnistRows(1, seed: 900 + i)).ToArray();
        var pending = sent.Select(Submit).ToArray();
        await Eventually.TrueAsync(() => _runs.Count == 1, "the first full batch to be running");
        Assert.Equal(3, _batcher!.QueuedRows);

        var disposing = Task.Run(_batcher.Dispose);
        _open.Set();
        await disposing;

        var late = await Submit(TestData.MnistRows(1, seed: 999));
        Assert.Equal(ServingErrorCode.Unavailable, late.Error?.Code);
        Assert.Contains("unloading", late.Error!.Message);
        var outcomes = await Task.WhenAll(pending);
        for (var i = 0; i < sent.Length; i++)
        {
            AssertRows(sent[i], outcomes[i]);
        }

        // Nothing was waiting for the clock: the queue was drained at once, without padding or lost rows.
        Assert.Equal(5, RunRows().Sum());
        Assert.Equal(0, _batcher.QueuedRows);
    }
}
