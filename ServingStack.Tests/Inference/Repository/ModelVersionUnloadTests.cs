using ServingStack.Inference.Batching;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Repository;

/// <summary>
/// A version's references and unload: a retired version unloads after its last request, exactly once, on the
/// background unloader and never on a request's thread, however retires and releases interleave.
/// </summary>
public sealed class ModelVersionUnloadTests : IAsyncLifetime
{
    private readonly LifecycleRig _rig = new();
    private ModelVersionUnloader _unloader = null!;

    public Task InitializeAsync()
    {
        _unloader = new ModelVersionUnloader(_rig.Logger);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _unloader.DisposeAsync();
        _rig.Dispose();
    }

    private sealed class UnloadRecord
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public int ThreadId { get; private set; }

        public void Record(ModelVersion version)
        {
            ThreadId = Environment.CurrentManagedThreadId;
            Interlocked.Increment(ref _count);
        }
    }

    private ModelVersion Available(OnnxModelSession session, UnloadRecord unloads, DynamicBatcher? batcher = null, long number = 1)
    {
        var version = new ModelVersion("m", number, "/unused", unloads.Record, _unloader);
        Assert.True(version.MarkLoading());
        Assert.True(version.MarkAvailable(session, batcher));
        return version;
    }

    private static InferenceTensor Row(string name, float[] values)
    {
        var tensor = InferenceTensor.Allocate(name, TensorDataType.Fp32, [1, values.Length]);
        values.CopyTo(tensor.GetSpan<float>());
        return tensor;
    }

    [Fact]
    public async Task A_version_retired_during_a_running_request_unloads_after_the_request_and_only_once()
    {
        var unloads = new UnloadRecord();
        var session = _rig.OpenMlp(seed: 3);
        var version = Available(session, unloads);
        Assert.True(version.TryAcquire()); // the running request

        Assert.True(version.Retire());
        Assert.Equal(ModelVersionState.Unloading, version.State);
        Assert.False(version.TryAcquire());
        Assert.False(version.Retire());

        // The request still runs on the session it holds, and gets the model's real answer.
        var row = TestData.MnistRows(1, seed: 11)[0];
        using var input = Row(ModelFactory.MlpInputName, row);
        var outcome = await version.InferAsync([input], version.Session.Outputs, null, CancellationToken.None);
        Assert.Null(outcome.Error);
        TfServingPredictTests.AssertClose(MlpWeights.Create(3).Evaluate(row), outcome.Outputs![0].GetSpan<float>().ToArray());
        outcome.Outputs[0].Dispose();
        Assert.Equal(0, unloads.Count);

        version.Release();
        await Eventually.TrueAsync(() => version.State == ModelVersionState.End, "the retired version to unload after its request");
        Assert.Equal(1, unloads.Count);
        Assert.Equal(0, version.References);
        Assert.Throws<InvalidOperationException>(() => version.Session);
        Assert.False(version.Retire());
        Assert.False(version.TryAcquire());
        Assert.Equal(1, unloads.Count);
    }

    [Fact]
    public async Task A_version_retired_while_its_batch_waits_answers_the_batch_then_unloads_once()
    {
        var unloads = new UnloadRecord();
        var session = _rig.OpenMlp(seed: 5);
        var options = new BatchingOptions { Enabled = true, MaxBatchSize = 8, BatchTimeoutMicros = 200_000, NumBatchThreads = 1 };
        var version = Available(session, unloads, new DynamicBatcher(session, options, _rig.Metrics, "m", 1));
        var rows = TestData.MnistRows(3, seed: 21);
        var inputs = new InferenceTensor[rows.Length];
        var pending = new Task<InferenceOutcome>[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.True(version.TryAcquire());
            inputs[i] = Row(ModelFactory.MlpInputName, rows[i]);
            pending[i] = version.InferAsync([inputs[i]], session.Outputs, null, CancellationToken.None).AsTask();
        }

        // Retired while the three requests wait in the batcher for a fuller batch.
        Assert.True(version.Retire());
        var expected = MlpWeights.Create(5);
        for (var i = 0; i < rows.Length; i++)
        {
            var outcome = await pending[i];
            Assert.Null(outcome.Error);
            TfServingPredictTests.AssertClose(expected.Evaluate(rows[i]), outcome.Outputs![0].GetSpan<float>().ToArray());
            outcome.Outputs[0].Dispose();
            inputs[i].Dispose();
            Assert.Equal(0, unloads.Count);
            version.Release();
        }

        await Eventually.TrueAsync(() => version.State == ModelVersionState.End, "the version to unload after its batch");
        Assert.Equal(1, unloads.Count);
        Assert.Null(version.Batcher);
    }

    [Fact]
    public async Task The_last_release_leaves_the_unload_to_the_background_unloader()
    {
        var unloads = new UnloadRecord();
        var version = Available(_rig.OpenIdentity(), unloads);
        Assert.True(version.TryAcquire());
        Assert.True(version.Retire());

        var releasingThread = Environment.CurrentManagedThreadId;
        version.Release();

        await Eventually.TrueAsync(() => unloads.Count == 1, "the unload");
        Assert.NotEqual(releasingThread, unloads.ThreadId);
        Assert.Equal(ModelVersionState.End, version.State);
    }

    [Fact]
    public async Task Concurrent_retires_release_the_base_reference_once()
    {
        for (var round = 0; round < 40; round++)
        {
            var unloads = new UnloadRecord();
            var version = Available(_rig.OpenIdentity(round + 1), unloads, number: round + 1);
            Assert.True(version.TryAcquire()); // a request in flight
            using var start = new Barrier(2);
            var wins = 0;
            var retirers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                if (version.Retire())
                {
                    Interlocked.Increment(ref wins);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            await Task.WhenAll(retirers);

            Assert.Equal(1, wins);
            // The request's reference is all that is left: the version must not unload under it.
            Assert.Equal(1, version.References);
            Assert.Equal(ModelVersionState.Unloading, version.State);
            Assert.Equal(0, unloads.Count);

            version.Release();
            await Eventually.TrueAsync(() => unloads.Count == 1 && version.State == ModelVersionState.End, $"round {round}: the unload");
        }
    }

    [Fact]
    public async Task Release_after_retire_from_many_threads_unloads_exactly_once()
    {
        const int Holders = 16;
        const int Rounds = 25;
        var records = new List<(ModelVersion Version, UnloadRecord Unloads)>();
        for (var round = 0; round < Rounds; round++)
        {
            var unloads = new UnloadRecord();
            var version = Available(_rig.OpenIdentity(round + 1), unloads, number: round + 1);
            for (var i = 0; i < Holders; i++)
            {
                Assert.True(version.TryAcquire());
            }

            // Every holder releases, two paths retire (a reconcile and shutdown) and late requests try to acquire, all at once.
            using var start = new Barrier(Holders + 4);
            var work = new List<Task>();
            for (var i = 0; i < Holders; i++)
            {
                work.Add(Run(start, version.Release));
            }

            work.Add(Run(start, () => version.Retire()));
            work.Add(Run(start, () => version.Retire()));
            for (var i = 0; i < 2; i++)
            {
                work.Add(Run(start, () =>
                {
                    for (var n = 0; n < 100; n++)
                    {
                        if (version.TryAcquire())
                        {
                            version.Release();
                        }
                    }
                }));
            }

            await Task.WhenAll(work);
            records.Add((version, unloads));
        }

        await Eventually.TrueAsync(() => records.TrueForAll(r => r.Version.State == ModelVersionState.End), "every round's version to unload");
        foreach (var (version, unloads) in records)
        {
            Assert.Equal(1, unloads.Count);
            Assert.Equal(0, version.References);
        }
    }

    private static Task Run(Barrier start, Action action) => Task.Factory.StartNew(() =>
    {
        start.SignalAndWait();
        action();
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
}
