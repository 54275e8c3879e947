using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>The gateway, evaluated in publish mode.</summary>
internal sealed record GatewayWorkload(ServingGatewayResource Resource, EvaluatedResource Process)
{
    public string Name => Resource.Name;

    public string ConfigMapName => $"{Resource.Name}-config";
}
