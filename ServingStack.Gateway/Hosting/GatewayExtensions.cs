using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using ServingStack.Gateway.Admin;
using ServingStack.Gateway.Metrics;
using ServingStack.Gateway.Routing;
using ServingStack.Gateway.Security;
using ServingStack.Gateway.Splits;

namespace ServingStack.Gateway.Hosting;

public static class GatewayExtensions
{
    /// <summary>
    /// Options, YARP from <c>ReverseProxy</c> (with service discovery, one destination per pod address, and routes derived
    /// from the splits), splits, metrics, canary analysis, Kestrel.
    /// </summary>
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddGatewaySecurity(); // first: its TLS endpoint defaults must precede the listeners below
        var services = builder.Services;
        // Bound once, without a change-token source: listeners and limits cannot change at run time, and a reload must
        // not throw from the options monitor that ValidateOnStart uses. Split reloads go through SplitsOptions.
        services.AddOptions<GatewayOptions>()
            .Configure<IConfiguration>((options, configuration) => configuration.GetSection(GatewayOptions.SectionName).Bind(options))
            .ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddOptions<SplitsOptions>().BindConfiguration(SplitsOptions.SectionName);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<CanaryMetrics>();
        services.AddSingleton<SplitRegistry>();
        services.AddSingleton<CanaryAnalyzer>();
        services.AddHostedService(sp => sp.GetRequiredService<CanaryAnalyzer>());
        services.AddSingleton<WeightedSplitMiddleware>();
        services.AddSingleton<ProxyErrorMiddleware>();
        services.AddGatewayResilience();
        services.AddProblemDetails();

        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatewayMetrics.MeterName)
            .AddPrometheusExporter());

        services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver()
            .AddPodAddressDiscovery();
        // The /v1, /v2 and gRPC routes, derived from the splits unless ReverseProxy:Routes names them itself.
        services.AddSingleton<Yarp.ReverseProxy.Configuration.IProxyConfigProvider, DefaultRouteConfigProvider>();

        services.AddSingleton<GatewayEndpoints>();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = context.Configuration.GetSection(GatewayOptions.SectionName).Get<GatewayOptions>() ?? new GatewayOptions();
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;

            // Without TLS there is no ALPN, and Http1AndHttp2 on a plain port speaks HTTP/1.1 only: so REST (HTTP/1.1)
            // and gRPC (h2c) get a port each, as on the inference server.
            ListenOptions? rest = null;
            ListenOptions? grpc = null;
            kestrel.ListenOn(options.ListenAddress, options.RestPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                rest = listen;
            });
            kestrel.ListenOn(options.ListenAddress, options.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                grpc = listen;
            });
            kestrel.ApplicationServices.GetRequiredService<GatewayEndpoints>().SetListeners(rest!, grpc!);
        });

        return builder;
    }

    /// <summary>
    /// Prometheus <c>/metrics</c>, the admin API, and the proxy: protocol-shaped errors and the weighted split ahead of
    /// YARP's own steps.
    /// </summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPrometheusScrapingEndpoint();
        app.MapSplitsAdmin();
        var errors = app.Services.GetRequiredService<ProxyErrorMiddleware>();
        var split = app.Services.GetRequiredService<WeightedSplitMiddleware>();
        var proxied = app.MapReverseProxy(proxy =>
        {
            proxy.Use(next => context => errors.InvokeAsync(context, next));
            proxy.Use(next => context => split.InvokeAsync(context, next));
            proxy.UseConnectRetry();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        app.UseGatewaySecurity(proxied);
        return app;
    }
}
