using System.Diagnostics.Metrics;

namespace ServingStack.ModelSync.Metrics;

/// <summary>
/// The sidecar's instruments (meter <c>ServingStack.ModelSync</c>), exported over OTLP and as Prometheus text at
/// <c>/metrics</c>: <c>servingstack_modelsync_last_success_seconds</c>, <c>servingstack_modelsync_downloaded_bytes_total</c>,
/// <c>servingstack_modelsync_failures_total</c>, <c>servingstack_modelsync_versions_published_total</c>,
/// <c>servingstack_modelsync_syncs_total</c>, <c>servingstack_modelsync_sync_duration_seconds</c>.
/// </summary>
public sealed class ModelSyncMetrics : IDisposable
{
    public const string MeterName = "ServingStack.ModelSync";

    private static readonly IReadOnlyList<double> s_syncBuckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

    private readonly Meter _meter;
    private readonly Counter<long> _downloaded;
    private readonly Counter<long> _failures;
    private readonly Counter<long> _published;
    private readonly Counter<long> _syncs;
    private readonly Histogram<double> _syncDuration;
    private long _lastSuccessTicks;

    public ModelSyncMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _downloaded = _meter.CreateCounter<long>("servingstack.modelsync.downloaded", "By",
            "Bytes read from the source into staging, by model (partial and failed downloads included).");
        _failures = _meter.CreateCounter<long>("servingstack.modelsync.failures", "{failure}",
            "Problems found by sync passes, by reason (checksum_mismatch, size_mismatch, source_error, listing_failed, ...).");
        _published = _meter.CreateCounter<long>("servingstack.modelsync.versions.published", "{version}",
            "Versions verified and renamed into the repository, by model.");
        _syncs = _meter.CreateCounter<long>("servingstack.modelsync.syncs", "{sync}",
            "Sync passes, by outcome (success: the repository holds every wanted version; failure).");
        _syncDuration = _meter.CreateHistogram("servingstack.modelsync.sync.duration", "s", "Time one sync pass took.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_syncBuckets });
        _meter.CreateObservableGauge("servingstack.modelsync.last_success", ObserveLastSuccess, "s",
            "Unix time of the last sync pass that left the repository complete.");
    }

    /// <summary>The last successful sync, or null before the first.</summary>
    public DateTimeOffset? LastSuccess
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastSuccessTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public void RecordDownloaded(string model, long bytes) => _downloaded.Add(bytes, new KeyValuePair<string, object?>("model", model));

    public void RecordFailure(string reason) => _failures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void RecordPublished(string model) => _published.Add(1, new KeyValuePair<string, object?>("model", model));

    public void RecordSync(bool succeeded, TimeSpan elapsed, DateTimeOffset finished)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", succeeded ? "success" : "failure");
        _syncs.Add(1, outcome);
        _syncDuration.Record(elapsed.TotalSeconds, outcome);
        if (succeeded)
        {
            Interlocked.Exchange(ref _lastSuccessTicks, finished.UtcTicks);
        }
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<double>> ObserveLastSuccess()
    {
        if (LastSuccess is { } last)
        {
            yield return new Measurement<double>(last.ToUnixTimeMilliseconds() / 1000.0);
        }
    }
}
