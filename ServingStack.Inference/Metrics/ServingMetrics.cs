using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ServingStack.Inference.Batching;

namespace ServingStack.Inference.Metrics;

/// <summary>
/// The server's instruments (meter <c>ServingStack.Inference</c>), exported over OTLP and as Prometheus text at
/// <c>/metrics</c>. Names follow OpenTelemetry's conventions; the Prometheus exporter turns <c>servingstack.requests</c>
/// into <c>servingstack_requests_total</c> and adds unit suffixes (<c>servingstack_request_duration_seconds</c>).
/// </summary>
public sealed class ServingMetrics : IDisposable
{
    public const string MeterName = "ServingStack.Inference";

    // Latency buckets from 100 µs to 10 s: serving latencies span a fast MLP on CPU to a large model under load.
    private static readonly IReadOnlyList<double> s_secondsBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly IReadOnlyList<int> s_batchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _queueDuration;
    private readonly Histogram<double> _computeDuration;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<int> _batchRows;
    private readonly Histogram<double> _loadDuration;
    private readonly ConcurrentDictionary<object, (string Model, string Version, Func<int> Depth)> _queues = new();
    private Func<IEnumerable<(string Model, string Version, int State)>>? _modelStates;
    private TfServingMetrics? _tfServing;

    public ServingMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _requests = _meter.CreateCounter<long>("servingstack.requests", "{request}",
            "Inference requests by model, version, protocol and status (canonical code: OK, INVALID_ARGUMENT, ...).");
        _requestDuration = _meter.CreateHistogram("servingstack.request.duration", "s",
            "Time from a request's arrival to its response, by model, version, protocol and status.", advice: Seconds());
        _queueDuration = _meter.CreateHistogram("servingstack.queue.duration", "s",
            "Time a request waited in its version's batch queue.", advice: Seconds());
        _computeDuration = _meter.CreateHistogram("servingstack.compute.duration", "s",
            "Time to stack a batch and run it in ONNX Runtime.", advice: Seconds());
        _batchSize = _meter.CreateHistogram("servingstack.batch.size", "{row}",
            "Rows in each batch ONNX Runtime ran, padding included.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });
        _batchRows = _meter.CreateHistogram("servingstack.batch.rows", "{row}",
            "Request rows in each batch, padding excluded.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = s_batchBuckets });
        _loadDuration = _meter.CreateHistogram("servingstack.model.load.duration", "s",
            "Time to load and warm a model version, by outcome.", advice: Seconds());
        _meter.CreateObservableGauge("servingstack.queue.depth", ObserveQueues, "{row}", "Rows waiting in each version's batch queue.");
        _meter.CreateObservableGauge("servingstack.model.state", ObserveStates, null,
            "Each version's state as TF Serving numbers it: 10 START, 20 LOADING, 30 AVAILABLE, 40 UNLOADING, 50 END.");
    }

    public Meter Meter => _meter;

    /// <summary>
    /// TF Serving's series, when <c>--monitoring_config_file</c> turns them on (set before the server starts); null
    /// otherwise, and then nothing is recorded for them.
    /// </summary>
    public TfServingMetrics? TfServing => _tfServing;

    internal void EnableTfServing(TfServingMetrics tfServing) => _tfServing = tfServing;

    private static InstrumentAdvice<double> Seconds() => new() { HistogramBucketBoundaries = s_secondsBuckets };

    /// <summary>Counts one finished inference request and its duration. <paramref name="status"/> is a canonical code name.</summary>
    public void RecordRequest(string model, string version, string protocol, string status, TimeSpan duration)
    {
        var tags = new TagList
        {
            { "model", model },
            { "version", version },
            { "protocol", protocol },
            { "status", status },
        };
        _requests.Add(1, tags);
        _requestDuration.Record(duration.TotalSeconds, tags);
        _tfServing?.RecordRequest(model, protocol, status, duration);
    }

    public void RecordQueueWait(in TagList versionTags, TimeSpan wait)
    {
        _queueDuration.Record(wait.TotalSeconds, versionTags);
        _tfServing?.RecordQueueWait(wait);
    }

    public void RecordBatch(in TagList versionTags, int rows, int paddedSize, TimeSpan compute)
    {
        _batchRows.Record(rows, versionTags);
        _batchSize.Record(paddedSize, versionTags);
        _computeDuration.Record(compute.TotalSeconds, versionTags);
        _tfServing?.RecordBatch(rows, paddedSize);
    }

    /// <summary>
    /// After a batch ran: each request's rows and its time from entering the queue to now (TF Serving's input batch
    /// size and runtime latency, whose batching session also times a request from its enqueue). Only TF's series use it.
    /// </summary>
    internal void RecordBatchedRequests(in TagList versionTags, List<BatchItem> batch)
    {
        if (_tfServing is not { } tf)
        {
            return;
        }

        var model = ModelOf(versionTags);
        var now = Stopwatch.GetTimestamp();
        foreach (var item in batch)
        {
            tf.RecordInputBatchSize(item.Rows);
            tf.RecordRuntime(model, Stopwatch.GetElapsedTime(item.EnqueuedAt, now));
        }
    }

    /// <summary>A request's successful run without batching (TF Serving's runtime latency; nothing of ours).</summary>
    public void RecordRuntime(string model, TimeSpan runtime) => _tfServing?.RecordRuntime(model, runtime);

    public void RecordLoad(string model, string version, bool succeeded, TimeSpan duration) =>
        RecordLoad(model, version, string.Empty, succeeded, duration);

    /// <summary>A load attempt of the version folder <paramref name="path"/> (TF Serving's series key loads by path).</summary>
    public void RecordLoad(string model, string version, string path, bool succeeded, TimeSpan duration)
    {
        _loadDuration.Record(duration.TotalSeconds, new TagList { { "model", model }, { "version", version }, { "outcome", succeeded ? "success" : "failure" } });
        _tfServing?.RecordLoad(path, succeeded, duration);
    }

    /// <summary>Reports a batch queue's depth until the returned handle is disposed.</summary>
    public IDisposable TrackQueue(string model, string version, Func<int> depth)
    {
        var key = new object();
        _queues[key] = (model, version, depth);
        return new Untrack(() => _queues.TryRemove(key, out _));
    }

    /// <summary>Where the model-state gauge reads from (the model manager).</summary>
    public void ObserveModelStates(Func<IEnumerable<(string Model, string Version, int State)>> states) => _modelStates = states;

    private IEnumerable<Measurement<int>> ObserveQueues()
    {
        foreach (var (model, version, depth) in _queues.Values)
        {
            yield return new Measurement<int>(depth(), new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("version", version));
        }
    }

    private IEnumerable<Measurement<int>> ObserveStates()
    {
        if (_modelStates is null)
        {
            yield break;
        }

        foreach (var (model, version, state) in _modelStates())
        {
            yield return new Measurement<int>(state, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("version", version));
        }
    }

    private static string ModelOf(in TagList tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "model")
            {
                return tag.Value as string ?? string.Empty;
            }
        }

        return string.Empty;
    }

    public void Dispose() => _meter.Dispose();

    private sealed class Untrack(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
