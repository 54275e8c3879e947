namespace ServingStack.AppHost.Hosting;

/// <summary>
/// The HorizontalPodAutoscaler of a service: replicas between <see cref="MinReplicas"/> and <see cref="MaxReplicas"/>,
/// aiming at these CPU and memory utilisations and at <see cref="RequestsPerSecondPerPod"/> (a Pods metric served by the
/// Prometheus Adapter from the server's request counter).
/// </summary>
public sealed record AutoscalingSettings(int MinReplicas, int MaxReplicas, int CpuUtilization = 70, int MemoryUtilization = 80, int RequestsPerSecondPerPod = 200);
