namespace ServingStack.AppHost.Hosting;

/// <summary>Kubernetes requests and limits, in Kubernetes' quantity syntax (<c>500m</c>, <c>1Gi</c>).</summary>
public sealed record ComputeResources(string CpuRequest, string MemoryRequest, string CpuLimit, string MemoryLimit);
