using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Health;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Protocols;
using ServingStack.Inference.Protocols.Grpc;
using ServingStack.Inference.Protocols.OpenInference;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Inference.Protocols.TfServing;
using ServingStack.Inference.Protocols.TfServing.Grpc;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using PredictionService = Tensorflow.Serving.PredictionService;

namespace ServingStack.Inference.Hosting;

public static class InferenceServerExtensions
{
    /// <summary>Options, model repository, runtime, health, gRPC, and Kestrel's REST and gRPC listeners.</summary>
    public static WebApplicationBuilder AddInferenceServer(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServingOptions>, ServingOptionsValidator>();
        services.AddSingleton<IConfigureOptions<ModelServerConfig>, ModelServerConfigSetup>();
        services.AddOptions<ModelServerConfig>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelServerConfig>, ModelServerConfigValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ServingMetrics>();
        services.AddSingleton<OnnxSessionFactory>();
        services.AddSingleton<ModelVersionLoader>();
        services.AddSingleton<ModelManager>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelManager>());
        services.AddHostedService<GracefulDrainService>();
        // The host's stop budget covers the drain delay and the grace for in-flight requests.
        services.AddOptions<HostOptions>().Configure<IOptions<ServingOptions>>((host, serving) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(serving.Value.DrainDelaySeconds + serving.Value.ShutdownGraceSeconds));

        // Our meter joins the service defaults' OTLP export and is also scraped as Prometheus text at /metrics.
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServingMetrics.MeterName)
            .AddPrometheusExporter());

        services.AddHealthChecks().AddCheck<ModelsReadyHealthCheck>("models", tags: [Extensions.ReadinessTag]);

        services.AddSingleton<ServingEndpoints>();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = context.Configuration.GetSection(ServingOptions.SectionName).Get<ServingOptions>() ?? new ServingOptions();
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.Http2.MaxStreamsPerConnection = GrpcConnectionLimits.MaxStreamsPerConnection;

            // gRPC is h2c (HTTP/2 without TLS, as tensorflow_model_server's --port); REST stays HTTP/1.1 for curl and
            // TF Serving clients. One protocol per port, because without TLS there is no ALPN to tell them apart.
            ListenOptions? grpc = null;
            ListenOptions? rest = null;
            kestrel.ListenOn(options.ListenAddress, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                grpc = listen;
            });
            kestrel.ListenOn(options.ListenAddress, options.RestApiPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                rest = listen;
            });
            kestrel.ApplicationServices.GetRequiredService<ServingEndpoints>().SetListeners(rest!, grpc!);
        });

        // Exception details stay in our log; clients get the status and our message. A gRPC message may be as large as
        // a REST body (gRPC's own default, 4 MB, is too small for image batches).
        services.AddGrpc(o => o.EnableDetailedErrors = false);
        services.AddOptions<GrpcServiceOptions>().Configure<IOptions<ServingOptions>>((grpc, serving) =>
            grpc.MaxReceiveMessageSize = (int)Math.Min(int.MaxValue, serving.Value.MaxRequestBodyBytes));
        services.AddGrpcHealthChecks(o =>
        {
            // "" (the whole server) is SERVING when every check passes, so only once every model is loaded; the
            // inference service's own name answers readiness alone, as /ready does.
            o.Services.Map(string.Empty, _ => true);
            o.Services.Map(GRPCInferenceService.Descriptor.FullName, check => check.Tags.Contains(Extensions.ReadinessTag));
            o.Services.Map(PredictionService.Descriptor.FullName, check => check.Tags.Contains(Extensions.ReadinessTag));
        });
        services.AddGrpcReflection();

        return builder;
    }

    /// <summary>
    /// TF Serving REST and gRPC, Open Inference REST and gRPC, gRPC health (<c>grpc.health.v1</c>) and reflection, and the seed's
    /// probes (<c>/healthz</c>, <c>/ready</c>).
    /// </summary>
    public static WebApplication MapInferenceServer(this WebApplication app)
    {
        app.UseExceptionHandler(errors => errors.Run(context =>
        {
            // The protocols' error shape even for our own bugs; never a stack trace to the client.
            var feature = context.Features.Get<IExceptionHandlerFeature>();
            return ProtocolResults.WriteErrorAsync(context, new ServingError(ServingErrorCode.Internal,
                $"internal error: {feature?.Error.GetType().Name ?? "unknown"}"));
        }));

        // Deadlines and request reads of the inference services' unary gRPC calls (see the middleware).
        app.UseMiddleware<GrpcUnaryCallMiddleware>();
        app.MapHealthChecks("/healthz", new() { Predicate = r => r.Tags.Contains(Extensions.LivenessTag) });
        app.MapHealthChecks("/ready", new() { Predicate = r => r.Tags.Contains(Extensions.ReadinessTag) });
        app.MapPrometheusScrapingEndpoint();
        app.MapTfServingApi();
        app.MapOpenInferenceApi();
        app.MapRepositoryApi();
        app.MapGrpcService<OpenInferenceGrpcService>();
        app.MapGrpcService<TfServingPredictionService>();
        app.MapGrpcService<TfServingModelService>();
        app.MapGrpcHealthChecksService();
        // Lets grpcurl and Postman discover the service without the .proto file.
        app.MapGrpcReflectionService();
        return app;
    }
}
