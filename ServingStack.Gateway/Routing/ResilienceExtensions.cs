using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;

namespace ServingStack.Gateway.Routing;

public static class ResilienceExtensions
{
    /// <summary>Health-check defaults for every cluster (a config filter), the consecutive-failures passive policy and the connect-retry middleware.</summary>
    public static IServiceCollection AddGatewayResilience(this IServiceCollection services)
    {
        services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ResilienceOptions>, ResilienceOptionsValidator>();
        services.AddSingleton<ResilienceMetrics>();
        services.AddSingleton<ConnectRetryMiddleware>();
        services.AddSingleton<IProxyConfigFilter, ResilienceConfigFilter>();
        services.AddSingleton<IPassiveHealthCheckPolicy, ConsecutiveFailuresPassivePolicy>();
        return services;
    }

    /// <summary>The connect retry; place it after the split and before session affinity and load balancing.</summary>
    public static IReverseProxyApplicationBuilder UseConnectRetry(this IReverseProxyApplicationBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var retry = proxy.ApplicationServices.GetRequiredService<ConnectRetryMiddleware>();
        proxy.Use(next => context => retry.InvokeAsync(context, next));
        return proxy;
    }
}
