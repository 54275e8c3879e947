using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace ServingStack.Inference.Metrics;

/// <summary>
/// TF Serving's own metric series, named, labelled, bucketed and printed as tensorflow_model_server's Prometheus
/// exporter does (<c>--monitoring_config_file</c> with <c>prometheus_config { enable: true }</c>), so dashboards and
/// alerts built for TF Serving work unchanged. Latencies are integer microseconds, as TensorFlow measures them.
/// Created only when monitoring is on; <see cref="ServingMetrics"/> forwards to it from the points that record our own
/// series.
/// </summary>
public sealed class TfServingMetrics
{
    /// <summary>The <c>runtime</c> label of runtime_latency (TF Serving's are <c>TF1</c> and <c>TFRT</c>).</summary>
    public const string RuntimeName = "ORT";

    /// <summary>TF Serving's runtime_latency is recorded by its Predict implementation for every API.</summary>
    public const string RuntimeApi = "Predict";

    // Scale 10 µs, ×1.8, 33 limits (about 20 minutes): request, runtime latency.
    private static readonly double[] s_latencyLimits = TfHistogram.Exponential(10, 1.8, 33);

    // Scale 100 µs, ×1.2, 52 limits (about 1 second): batch queuing latency.
    private static readonly double[] s_queuingLimits = TfHistogram.Exponential(100, 1.2, 52);

    // 1, 2, 4 ... 8192: batch and padding sizes.
    private static readonly double[] s_batchLimits = TfHistogram.Exponential(1, 2, 14);

    private readonly TfCounter _requestCount = new(":tensorflow:serving:request_count", "model_name", "status");
    private readonly TfHistogram _requestLatency = new(":tensorflow:serving:request_latency", s_latencyLimits, "model_name", "API", "entrypoint");
    private readonly TfHistogram _runtimeLatency = new(":tensorflow:serving:runtime_latency", s_latencyLimits, "model_name", "API", "runtime");
    private readonly TfHistogram _queuingLatency = new(":tensorflow:serving:batching_session:queuing_latency", s_queuingLimits, "thread_pool_name");
    private readonly TfCounter _wrappedRunCount = new(":tensorflow:serving:batching_session:wrapped_run_count");
    private readonly TfHistogram _inputBatchSize = new(":tensorflow:serving:batching_session:input_batch_size", s_batchLimits);
    private readonly TfHistogram _processedBatchSize = new(":tensorflow:serving:batching_session:processed_batch_size", s_batchLimits);
    private readonly TfHistogram _paddingSize = new(":tensorflow:serving:batching_session:padding_size", s_batchLimits, "execution_batch_size");
    private readonly TfCounter _loadAttemptCount = new(":tensorflow:cc:saved_model:load_attempt_count", "model_path", "status");
    private readonly TfCounter _loadLatency = new(":tensorflow:cc:saved_model:load_latency", "model_path");
    private readonly ConcurrentDictionary<int, string> _sizeTexts = new();
    private readonly Action<StringBuilder>[] _writers;

    public TfServingMetrics()
    {
        // In name order, as the exporter walks TensorFlow's metric registry.
        _writers =
        [
            _loadAttemptCount.WriteTo,
            _loadLatency.WriteTo,
            _inputBatchSize.WriteTo,
            _paddingSize.WriteTo,
            _processedBatchSize.WriteTo,
            _queuingLatency.WriteTo,
            _wrappedRunCount.WriteTo,
            _requestCount.WriteTo,
            _requestLatency.WriteTo,
            _runtimeLatency.WriteTo,
        ];
    }

    /// <summary>
    /// One finished request: counted always (by status, TF's error-code name), its latency only when it succeeded, as
    /// TF Serving does. <paramref name="protocol"/> is our protocol label; it picks the API and entrypoint labels.
    /// </summary>
    public void RecordRequest(string model, string protocol, string status, TimeSpan duration)
    {
        _requestCount.Add(new TfLabelValues(model, status), 1);
        if (status == "OK")
        {
            var (api, entrypoint) = TfServingApiNames.ForProtocol(protocol);
            _requestLatency.Observe(new TfLabelValues(model, api, entrypoint), Microseconds(duration));
        }
    }

    /// <summary>A request's successful run: its time from handing the inputs to the runtime (batch queue included) to having outputs.</summary>
    public void RecordRuntime(string model, TimeSpan runtime) =>
        _runtimeLatency.Observe(new TfLabelValues(model, RuntimeApi, RuntimeName), Microseconds(runtime));

    /// <summary>A request's rows, as it enters a batch.</summary>
    public void RecordInputBatchSize(int rows) => _inputBatchSize.Observe(default, rows);

    /// <summary>
    /// A request's wait in a batch queue. tensorflow_model_server's batching session is created without a thread-pool
    /// name, so its only series has <c>thread_pool_name=""</c>; ours is the same (per-model waits are in our own series).
    /// </summary>
    public void RecordQueueWait(TimeSpan wait) => _queuingLatency.Observe(new TfLabelValues(string.Empty), Microseconds(wait));

    /// <summary>One batch run: <paramref name="rows"/> request rows padded to <paramref name="paddedSize"/>.</summary>
    public void RecordBatch(int rows, int paddedSize)
    {
        _wrappedRunCount.Add(new TfLabelValues(string.Empty), 1);
        _processedBatchSize.Observe(default, paddedSize);
        var sizeText = _sizeTexts.GetOrAdd(paddedSize, static size => size.ToString(CultureInfo.InvariantCulture));
        _paddingSize.Observe(new TfLabelValues(sizeText), paddedSize - rows);
    }

    /// <summary>
    /// One load attempt of the version folder <paramref name="path"/> (TF's export directory): counted by outcome
    /// (<c>success</c>, <c>fail</c>), its microseconds added to the path's load_latency counter whatever the outcome, as
    /// TensorFlow's SavedModel loader does.
    /// </summary>
    public void RecordLoad(string path, bool succeeded, TimeSpan duration)
    {
        _loadAttemptCount.Add(new TfLabelValues(path, succeeded ? "success" : "fail"), 1);
        _loadLatency.Add(new TfLabelValues(path), (long)Microseconds(duration));
    }

    /// <summary>The page tensorflow_model_server serves at its monitoring path.</summary>
    public string Scrape()
    {
        var text = new StringBuilder(4096);
        foreach (var write in _writers)
        {
            write(text);
        }

        return text.ToString();
    }

    private static double Microseconds(TimeSpan elapsed) => elapsed.Ticks / TimeSpan.TicksPerMicrosecond;
}
