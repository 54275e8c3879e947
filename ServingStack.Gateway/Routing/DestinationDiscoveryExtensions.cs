using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace ServingStack.Gateway.Routing;

public static class DestinationDiscoveryExtensions
{
    /// <summary>
    /// Per-address destinations on top of the resolver registered before (Aspire service discovery), re-resolved
    /// periodically, and forwarder clients whose pooled connections have a bounded lifetime (<c>Gateway:Discovery</c>).
    /// </summary>
    public static IReverseProxyBuilder AddPodAddressDiscovery(this IReverseProxyBuilder proxy)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var services = proxy.Services;
        services.AddOptions<DestinationDiscoveryOptions>().BindConfiguration(DestinationDiscoveryOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DestinationDiscoveryOptions>, DestinationDiscoveryOptionsValidator>();
        services.TryAddSingleton<IHostAddressLookup, DnsHostAddressLookup>();
        services.TryAddSingleton(TimeProvider.System);

        // Wrap whichever resolver is registered (YARP uses one): its results are what gets expanded per address.
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IDestinationResolver));
        services.RemoveAll<IDestinationResolver>();
        services.AddSingleton<IDestinationResolver>(sp => ActivatorUtilities.CreateInstance<PodAddressDestinationResolver>(sp, Inner(sp, registered)));
        services.Replace(ServiceDescriptor.Singleton<IForwarderHttpClientFactory, RebalancingForwarderHttpClientFactory>());
        return proxy;
    }

    private static IDestinationResolver Inner(IServiceProvider services, ServiceDescriptor? registered) => registered switch
    {
        null => NoResolution.Instance,
        { ImplementationInstance: IDestinationResolver instance } => instance,
        { ImplementationFactory: { } factory } => (IDestinationResolver)factory(services),
        { ImplementationType: { } type } => (IDestinationResolver)ActivatorUtilities.CreateInstance(services, type),
        _ => throw new InvalidOperationException($"Cannot wrap the registered {nameof(IDestinationResolver)}."),
    };

    /// <summary>Destinations as configured, when nothing else resolves them.</summary>
    private sealed class NoResolution : IDestinationResolver
    {
        public static readonly NoResolution Instance = new();

        public ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(IReadOnlyDictionary<string, Yarp.ReverseProxy.Configuration.DestinationConfig> destinations, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new ResolvedDestinationCollection(destinations, changeToken: null));
    }
}
