using System.Globalization;
using ServingStack.AppHost.Kubernetes.Crds;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// Alerts on the series the server and the sync export (README "Metrics"; names checked against a running server by
/// the tests). Thresholds that depend on the graph come from it: queue capacity is max_enqueued_batches ×
/// max_batch_size rows, and a sync is stale after three of its intervals plus five minutes.
/// </summary>
internal static class PrometheusRuleBuilder
{
    public const string Name = "servingstack";

    /// <summary>p99 of successful requests above this, for ten minutes, pages.</summary>
    public const double LatencyP99Seconds = 0.5;

    /// <summary>Share of requests failing on the server's side (not the client's: INVALID_ARGUMENT, NOT_FOUND...).</summary>
    public const double ErrorRatio = 0.05;

    /// <summary>Queue depth as a share of capacity; beyond capacity requests are refused with RESOURCE_EXHAUSTED.</summary>
    public const double QueueSaturation = 0.8;

    /// <summary>Status codes that are the server's fault or its capacity's (RESOURCE_EXHAUSTED has its own alert).</summary>
    public const string ServerErrorStatuses = "INTERNAL|UNKNOWN|UNAVAILABLE|DEADLINE_EXCEEDED|DATA_LOSS";

    public static PrometheusRule Create(PublishedGraph graph)
    {
        var ns = graph.Namespace;
        var inference = new List<PrometheusAlertingRule>
        {
            Rule("ServingStackHighP99Latency",
                $"histogram_quantile(0.99, sum by (service, model, le) (rate(servingstack_request_duration_seconds_bucket{{namespace=\"{ns}\", status=\"OK\"}}[5m]))) > {Number(LatencyP99Seconds)}",
                "10m", "warning",
                "p99 latency of {{ $labels.model }} on {{ $labels.service }} is {{ $value | humanizeDuration }}",
                $"The 99th percentile of successful requests has been above {Number(LatencyP99Seconds)}s for 10 minutes. Check queue duration against compute duration to tell waiting from working."),
            Rule("ServingStackHighErrorRate",
                $"sum by (service, model) (rate(servingstack_requests_total{{namespace=\"{ns}\", status=~\"{ServerErrorStatuses}\"}}[5m])) / sum by (service, model) (rate(servingstack_requests_total{{namespace=\"{ns}\"}}[5m])) > {Number(ErrorRatio)}",
                "5m", "critical",
                "{{ $labels.model }} on {{ $labels.service }} fails {{ $value | humanizePercentage }} of requests",
                $"More than {Number(ErrorRatio * 100)}% of requests end in {ServerErrorStatuses.Replace("|", ", ", StringComparison.Ordinal)} for 5 minutes."),
            Rule("ServingStackModelLoadFailed",
                $"sum by (service, pod, model, version) (increase(servingstack_model_load_duration_seconds_count{{namespace=\"{ns}\", outcome=\"failure\"}}[10m])) > 0",
                null, "critical",
                "{{ $labels.model }} version {{ $labels.version }} failed to load on {{ $labels.pod }}",
                "A model version ended in END with an error (corrupt file, unsupported operator, out of memory); the status API and the server log name the cause. Older versions keep serving."),
            Rule("ServingStackRequestsRejected",
                $"sum by (service, model) (rate(servingstack_requests_total{{namespace=\"{ns}\", status=\"RESOURCE_EXHAUSTED\"}}[5m])) > 0",
                "5m", "warning",
                "{{ $labels.service }} refuses {{ $labels.model }} requests: its batch queue is full",
                "Requests are answered 429 / RESOURCE_EXHAUSTED because the batch queue is at max_enqueued_batches x max_batch_size. Scale out or raise the queue bound."),
        };

        // One rule per alert (Prometheus flags same-named rules as duplicates): each service's own bound, joined by `or`.
        var queues = graph.Inference.Where(w => w.Resource.Batching is not null)
            .Select(w => $"max by (service, pod, model, version) (servingstack_queue_depth{{namespace=\"{ns}\", service=\"{w.Name}\"}}) / {QueueCapacity(w)}")
            .ToList();
        if (queues.Count > 0)
        {
            inference.Add(Rule("ServingStackQueueSaturated",
                $"({string.Join(" or ", queues.Select(q => $"({q})"))}) > {Number(QueueSaturation)}",
                "2m", "warning",
                "The batch queue of {{ $labels.model }} on {{ $labels.pod }} is {{ $value | humanizePercentage }} full",
                $"More than {Number(QueueSaturation * 100)}% of max_enqueued_batches x max_batch_size rows are waiting; when the queue is full requests are refused with RESOURCE_EXHAUSTED. Scale out or raise the bound."));
        }

        var stale = graph.Inference.Select(w =>
            $"(time() - max by (service, pod) (servingstack_modelsync_last_success_seconds{{namespace=\"{ns}\", service=\"{w.Name}\"}}) > {(long)(w.Sync.Interval.TotalSeconds * 3) + 300})");
        var sync = new List<PrometheusAlertingRule>
        {
            Rule("ServingStackModelSyncStale", string.Join(" or ", stale), "5m", "warning",
                "Model sync of {{ $labels.pod }} has not completed a pass for {{ $value | humanizeDuration }}",
                "No pass has left the repository complete for three sync intervals plus five minutes (servingstack_modelsync_failures_total says why); the versions already in the pod keep serving, new ones do not arrive."),
        };

        return new PrometheusRule
        {
            Metadata = ObjectMetadata.Create(Name, ns, ServingLabels.ForApplication("monitoring", graph.Settings)),
            Spec = new PrometheusRuleSpec
            {
                Groups =
                [
                    new PrometheusRuleGroup { Name = "servingstack.inference", Rules = inference },
                    new PrometheusRuleGroup { Name = "servingstack.modelsync", Rules = sync },
                ],
            },
        };
    }

    private static PrometheusAlertingRule Rule(string alert, string expr, string? @for, string severity, string summary, string description) => new()
    {
        Alert = alert,
        Expr = expr,
        For = @for,
        Labels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["severity"] = severity },
        Annotations = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["summary"] = summary, ["description"] = description },
    };

    /// <summary>Rows a version's queue holds before refusing: max_enqueued_batches x max_batch_size.</summary>
    private static long QueueCapacity(InferenceWorkload workload) =>
        (long)workload.Resource.Batching!.MaxEnqueuedBatches * workload.Resource.Batching.MaxBatchSize;

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
