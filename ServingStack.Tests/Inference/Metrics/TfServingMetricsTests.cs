using ServingStack.Inference.Metrics;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Metrics;

/// <summary>TF Serving's series as text: names, labels, TensorFlow's buckets and number formats, checked without a server.</summary>
public sealed class TfServingMetricsTests
{
    // TensorFlow's Buckets::Exponential limits as C's %.6g prints them (computed independently, with Python).
    internal static readonly string[] LatencyLimits =
    [
        "10", "18", "32.4", "58.32", "104.976", "188.957", "340.122", "612.22", "1102", "1983.59", "3570.47", "6426.84", "11568.3",
        "20823", "37481.3", "67466.4", "121440", "218591", "393464", "708235", "1.27482e+06", "2.29468e+06", "4.13043e+06",
        "7.43477e+06", "1.33826e+07", "2.40887e+07", "4.33596e+07", "7.80473e+07", "1.40485e+08", "2.52873e+08", "4.55172e+08",
        "8.19309e+08", "1.47476e+09", "+Inf",
    ];

    internal static readonly string[] QueuingLimits =
    [
        "100", "120", "144", "172.8", "207.36", "248.832", "298.598", "358.318", "429.982", "515.978", "619.174", "743.008", "891.61",
        "1069.93", "1283.92", "1540.7", "1848.84", "2218.61", "2662.33", "3194.8", "3833.76", "4600.51", "5520.61", "6624.74",
        "7949.68", "9539.62", "11447.5", "13737.1", "16484.5", "19781.4", "23737.6", "28485.2", "34182.2", "41018.6", "49222.4",
        "59066.8", "70880.2", "85056.2", "102067", "122481", "146977", "176373", "211647", "253977", "304772", "365726", "438871",
        "526646", "631975", "758370", "910044", "1.09205e+06", "+Inf",
    ];

    internal static readonly string[] BatchLimits = ["1", "2", "4", "8", "16", "32", "64", "128", "256", "512", "1024", "2048", "4096", "8192", "+Inf"];

    private static TimeSpan Micros(long microseconds) => TimeSpan.FromTicks(microseconds * TimeSpan.TicksPerMicrosecond);

    [Fact]
    public void Page_is_written_as_tensorflow_model_servers_exporter_writes_it()
    {
        var metrics = new TfServingMetrics();
        metrics.RecordLoad("/m/1", succeeded: true, Micros(1500));
        metrics.RecordLoad("/m/2", succeeded: false, Micros(20));
        metrics.RecordLoad("/m/2", succeeded: false, Micros(30));
        metrics.RecordBatch(rows: 3, paddedSize: 4);

        static IEnumerable<string> Buckets(string name, string labels, string[] limits, int firstNonZero, int count) =>
            limits.Select((le, i) => $"{name}_bucket{{{labels}le=\"{le}\"}} {(i >= firstNonZero ? count : 0)}");

        string[] expected =
        [
            "# TYPE :tensorflow:cc:saved_model:load_attempt_count counter",
            ":tensorflow:cc:saved_model:load_attempt_count{model_path=\"/m/1\",status=\"success\"} 1",
            ":tensorflow:cc:saved_model:load_attempt_count{model_path=\"/m/2\",status=\"fail\"} 2",
            "# TYPE :tensorflow:cc:saved_model:load_latency counter",
            ":tensorflow:cc:saved_model:load_latency{model_path=\"/m/1\"} 1500",
            ":tensorflow:cc:saved_model:load_latency{model_path=\"/m/2\"} 50",
            "# TYPE :tensorflow:serving:batching_session:input_batch_size histogram",
            "# TYPE :tensorflow:serving:batching_session:padding_size histogram",
            // One padding row: 1 is not below the limit 1, so it is counted from le="2" on.
            .. Buckets(":tensorflow:serving:batching_session:padding_size", "execution_batch_size=\"4\",", BatchLimits, 1, 1),
            ":tensorflow:serving:batching_session:padding_size_sum{execution_batch_size=\"4\"} 1",
            ":tensorflow:serving:batching_session:padding_size_count{execution_batch_size=\"4\"} 1",
            "# TYPE :tensorflow:serving:batching_session:processed_batch_size histogram",
            .. Buckets(":tensorflow:serving:batching_session:processed_batch_size", "", BatchLimits, 3, 1),
            ":tensorflow:serving:batching_session:processed_batch_size_sum{} 4",
            ":tensorflow:serving:batching_session:processed_batch_size_count{} 1",
            "# TYPE :tensorflow:serving:batching_session:queuing_latency histogram",
            "# TYPE :tensorflow:serving:batching_session:wrapped_run_count counter",
            ":tensorflow:serving:batching_session:wrapped_run_count{} 1",
            "# TYPE :tensorflow:serving:request_count counter",
            "# TYPE :tensorflow:serving:request_latency histogram",
            "# TYPE :tensorflow:serving:runtime_latency histogram",
            "",
        ];

        Assert.Equal(string.Join('\n', expected), metrics.Scrape());
    }

    [Fact]
    public void Bucket_limits_are_TensorFlows_exponential_buckets_with_six_significant_digits()
    {
        var metrics = new TfServingMetrics();
        metrics.RecordRequest("m", "tfserving_rest", "OK", Micros(5));
        metrics.RecordRuntime("m", Micros(5));
        metrics.RecordQueueWait(Micros(5));
        metrics.RecordInputBatchSize(1);
        var page = PrometheusPage.Parse(metrics.Scrape());

        Assert.Equal(LatencyLimits, page.Find(":tensorflow:serving:request_latency_bucket").Select(s => s.Labels["le"]));
        Assert.Equal(LatencyLimits, page.Find(":tensorflow:serving:runtime_latency_bucket").Select(s => s.Labels["le"]));
        Assert.Equal(QueuingLimits, page.Find(":tensorflow:serving:batching_session:queuing_latency_bucket", ("thread_pool_name", "")).Select(s => s.Labels["le"]));
        Assert.Equal(BatchLimits, page.Find(":tensorflow:serving:batching_session:input_batch_size_bucket").Select(s => s.Labels["le"]));
    }

    [Fact]
    public void A_value_equal_to_a_limit_is_counted_in_the_next_bucket_as_TensorFlow_counts_it()
    {
        var metrics = new TfServingMetrics();
        foreach (var us in new long[] { 9, 10, 18, 0 })
        {
            metrics.RecordRuntime("m", Micros(us));
        }

        var page = PrometheusPage.Parse(metrics.Scrape());
        (string, string)[] series = [("model_name", "m"), ("API", "Predict"), ("runtime", "ORT")];
        double Bucket(string le) => page.Value(":tensorflow:serving:runtime_latency_bucket", [.. series, ("le", le)]);
        Assert.Equal(2, Bucket("10"));   // 0 and 9
        Assert.Equal(3, Bucket("18"));   // and 10
        Assert.Equal(4, Bucket("32.4")); // and 18
        Assert.Equal(4, Bucket("+Inf"));
        Assert.Equal(37, page.Value(":tensorflow:serving:runtime_latency_sum", series));
        Assert.Equal(4, page.Value(":tensorflow:serving:runtime_latency_count", series));
    }

    [Fact]
    public void Latencies_are_whole_microseconds_and_sums_print_six_significant_digits()
    {
        var metrics = new TfServingMetrics();
        metrics.RecordRequest("m", "tfserving_rest", "OK", TimeSpan.FromTicks(12_345_678)); // 1,234,567.8 µs
        metrics.RecordRequest("m", "tfserving_rest", "OK", TimeSpan.FromTicks(9));         // 0.9 µs: 0

        var page = PrometheusPage.Parse(metrics.Scrape());
        var sum = Assert.Single(page.Find(":tensorflow:serving:request_latency_sum"));
        Assert.Equal("1.23457e+06", sum.Text);
        Assert.Equal(1, page.Value(":tensorflow:serving:request_latency_bucket", ("le", "10")));
        Assert.Equal(1, page.Value(":tensorflow:serving:request_latency_bucket", ("le", "708235")));
        Assert.Equal(2, page.Value(":tensorflow:serving:request_latency_bucket", ("le", "1.27482e+06")));
    }

    [Fact]
    public void Request_count_counts_every_status_and_request_latency_only_successes()
    {
        var metrics = new TfServingMetrics();
        metrics.RecordRequest("m", "tfserving_rest", "OK", Micros(100));
        metrics.RecordRequest("m", "tfserving_rest", "INVALID_ARGUMENT", Micros(100));
        metrics.RecordRequest("m", "grpc", "OK", Micros(100));
        metrics.RecordRequest("m", "tfserving_rest", "OK", Micros(100));
        metrics.RecordRequest("", "v2_rest", "NOT_FOUND", Micros(100));

        var page = PrometheusPage.Parse(metrics.Scrape());
        var counts = page.Find(":tensorflow:serving:request_count").Select(s => (s.Labels["model_name"], s.Labels["status"], s.Value));
        Assert.Equal([("", "NOT_FOUND", 1d), ("m", "INVALID_ARGUMENT", 1d), ("m", "OK", 3d)], counts);
        var latencies = page.Find(":tensorflow:serving:request_latency_count").Select(s => (s.Labels["model_name"], s.Labels["API"], s.Labels["entrypoint"], s.Value));
        Assert.Equal([("m", "ModelInfer", "GRPC", 1d), ("m", "predict", "REST", 2d)], latencies);
    }

    [Theory]
    [InlineData("tfserving_rest", "predict", "REST")]
    [InlineData("tfserving_grpc", "Predict", "GRPC")]
    [InlineData("v2_rest", "infer", "REST")]
    [InlineData("grpc", "ModelInfer", "GRPC")]
    [InlineData("future_grpc", "future_grpc", "GRPC")]
    [InlineData("future", "future", "REST")]
    public void Api_and_entrypoint_labels_follow_the_protocol(string protocol, string api, string entrypoint) =>
        Assert.Equal((api, entrypoint), TfServingApiNames.ForProtocol(protocol));

    [Fact]
    public void Label_values_escape_backslash_quote_and_newline()
    {
        var metrics = new TfServingMetrics();
        metrics.RecordLoad("C:\\models\\\"m\"\n1", succeeded: true, Micros(1));

        var text = metrics.Scrape();
        Assert.Contains(":tensorflow:cc:saved_model:load_latency{model_path=\"C:\\\\models\\\\\\\"m\\\"\\n1\"} 1\n", text, StringComparison.Ordinal);
        Assert.Equal("C:\\models\\\"m\"\n1", Assert.Single(PrometheusPage.Parse(text).Find(":tensorflow:cc:saved_model:load_latency")).Labels["model_path"]);
    }

    [Fact]
    public void Concurrent_records_are_all_counted()
    {
        var metrics = new TfServingMetrics();
        const int Threads = 8, PerThread = 20_000;
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                metrics.RecordRequest(i % 2 == 0 ? "a" : "b", "tfserving_rest", "OK", Micros(i % 100));
                metrics.RecordBatch(1, 2);
            }
        });

        var page = PrometheusPage.Parse(metrics.Scrape());
        Assert.Equal(Threads * PerThread / 2, page.Value(":tensorflow:serving:request_count", ("model_name", "a")));
        Assert.Equal(Threads * PerThread / 2, page.Value(":tensorflow:serving:request_latency_count", ("model_name", "b")));
        // Sums of whole microseconds are exact in a double: 0..99 repeated.
        var expectedSum = Threads * (long)Enumerable.Range(0, PerThread).Where(i => i % 2 == 0).Sum(i => i % 100);
        Assert.Equal(expectedSum, page.Value(":tensorflow:serving:request_latency_sum", ("model_name", "a")));
        Assert.Equal(Threads * PerThread, page.Value(":tensorflow:serving:batching_session:wrapped_run_count"));
    }

    [Fact]
    public async Task Page_passes_promtool_with_only_the_remarks_TF_Servings_names_draw()
    {
        var metrics = new TfServingMetrics();
        metrics.RecordRequest("m", "tfserving_rest", "OK", Micros(100));
        metrics.RecordRuntime("m", Micros(50));
        metrics.RecordQueueWait(Micros(20));
        metrics.RecordInputBatchSize(1);
        metrics.RecordBatch(1, 2);
        metrics.RecordLoad("/m/1", true, Micros(1000));

        var (exitCode, output) = await PromTool.CheckMetricsAsync(metrics.Scrape());

        AssertOnlyNamingRemarks(exitCode, output);
    }

    /// <summary>
    /// promtool exits 3 for lint remarks and 1 for a page it cannot parse. TF Serving's names draw remarks (colons, no
    /// <c>_total</c>, no HELP); anything else is a problem of ours.
    /// </summary>
    internal static void AssertOnlyNamingRemarks(int exitCode, string output)
    {
        string[] remarks =
        [
            "counter metrics should have \"_total\" suffix",
            "metric names should not contain ':'",
            "no help text",
            "non-histogram and non-summary metrics should not have \"_count\" suffix",
        ];
        Assert.True(exitCode is 0 or 3, $"promtool check metrics failed ({exitCode}): {output}");
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.True(line.StartsWith(":tensorflow:", StringComparison.Ordinal) && remarks.Any(r => line.EndsWith(r, StringComparison.Ordinal)),
                $"unexpected promtool remark: {line}");
        }
    }
}
