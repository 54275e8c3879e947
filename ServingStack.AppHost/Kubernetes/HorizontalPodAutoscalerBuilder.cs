using System.Globalization;
using k8s.Models;
using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// autoscaling/v2 from <see cref="AutoscalingSettings"/>: CPU and memory utilisation of the requests, and request rate
/// per pod, a Pods metric the Prometheus Adapter serves from <c>servingstack_requests_total</c> (rule in the README).
/// </summary>
internal static class HorizontalPodAutoscalerBuilder
{
    /// <summary>The custom metric's name as the Prometheus Adapter rule in the README exposes it.</summary>
    public const string RequestRateMetric = "servingstack_requests_per_second";

    public static V2HorizontalPodAutoscaler? Inference(InferenceWorkload workload, PublishedGraph graph)
    {
        if (workload.Resource.Autoscaling is not { } scaling)
        {
            return null;
        }

        return new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2",
            Kind = "HorizontalPodAutoscaler",
            Metadata = ObjectMetadata.Create(workload.Name, graph.Namespace, ServingLabels.For(workload.Name, ServingLabels.InferenceComponent, graph.Settings)),
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = workload.Name },
                MinReplicas = Math.Max(scaling.MinReplicas, workload.Resource.Replicas()),
                MaxReplicas = scaling.MaxReplicas,
                Metrics =
                [
                    Utilization("cpu", scaling.CpuUtilization),
                    Utilization("memory", scaling.MemoryUtilization),
                    new V2MetricSpec
                    {
                        Type = "Pods",
                        Pods = new V2PodsMetricSource
                        {
                            Metric = new V2MetricIdentifier { Name = RequestRateMetric },
                            Target = new V2MetricTarget { Type = "AverageValue", AverageValue = new ResourceQuantity(scaling.RequestsPerSecondPerPod.ToString(CultureInfo.InvariantCulture)) },
                        },
                    },
                ],
                Behavior = new V2HorizontalPodAutoscalerBehavior
                {
                    // Scale down slowly: a model version load is expensive, and traffic is bursty.
                    ScaleDown = new V2HPAScalingRules
                    {
                        StabilizationWindowSeconds = 300,
                        Policies = [new V2HPAScalingPolicy { Type = "Pods", Value = 1, PeriodSeconds = 60 }],
                    },
                },
            },
        };
    }

    private static V2MetricSpec Utilization(string resource, int percent) => new()
    {
        Type = "Resource",
        Resource = new V2ResourceMetricSource
        {
            Name = resource,
            Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = percent },
        },
    };
}
