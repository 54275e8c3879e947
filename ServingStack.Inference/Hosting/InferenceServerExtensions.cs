using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Health;
using ServingStack.Inference.Metrics;
using ServingStack.Inference.Monitoring;
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
        // Read through the unvalidated settings, so a bad ServingOptions does not hide the model config's own problems:
        // the start then reports both lists together.
        services.AddSingleton<IConfigureOptions<ModelServerConfig>>(sp =>
        {
            var configuration = sp.GetRequiredService<IConfiguration>();
            return new ModelServerConfigSetup(Options.Create(Unvalidated(configuration)), configuration);
        });
        services.AddOptions<ModelServerConfig>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ModelServerConfig>, ModelServerConfigValidator>();
        builder.AddTfServingMonitoring();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ServingMetrics>();
        services.AddSingleton<OnnxSessionFactory>();
        services.AddSingleton<ModelVersionLoader>();
        services.AddSingleton<ModelManager>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelManager>());
        services.AddHostedService<GracefulDrainService>();
        builder.AddConnectionDrain(beginOnStop: false); // GracefulDrainService starts it, with its own delay
        services.AddOptions<CorsOptions>().Configure<IOptions<ServingOptions>>((cors, serving) =>
        {
            if (serving.Value.RestApiEnableCorsSupport)
            {
                // --rest_api_enable_cors_support: browsers may call the REST API from any origin.
                cors.AddDefaultPolicy(policy => policy.AllowAnyOrigin().AllowAnyHeader().WithMethods("GET", "POST", "OPTIONS"));
            }
        });
        services.AddCors();
        // The host's stop budget covers the drain delay and the grace for in-flight requests.
        // (Unvalidated: the host reads this while it is built, before ValidateOnStart reports every problem at once.)
        services.AddOptions<HostOptions>().Configure<IConfiguration>((host, configuration) =>
        {
            var serving = Unvalidated(configuration);
            host.ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(0, serving.DrainDelaySeconds) + Math.Max(0, serving.ShutdownGraceSeconds));
        });

        // Our meter joins the service defaults' OTLP export and is also scraped as Prometheus text at /metrics.
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(ServingMetrics.MeterName)
            .AddPrometheusExporter());

        services.AddHealthChecks().AddCheck<ModelsReadyHealthCheck>("models", tags: [Extensions.ReadinessTag]);

        services.AddSingleton<ServingEndpoints>();
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var options = Unvalidated(context.Configuration);
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.Http2.MaxStreamsPerConnection = GrpcConnectionLimits.MaxStreamsPerConnection;

            // gRPC is h2c (HTTP/2 without TLS, as tensorflow_model_server's --port, unless --ssl_config_file); REST stays HTTP/1.1 for curl and
            // TF Serving clients. One protocol per port, because without TLS there is no ALPN to tell them apart.
            ListenOptions? grpc = null;
            ListenOptions? rest = null;
            // --ssl_config_file puts TLS on this port (a file that does not check out fails validation instead).
            var ssl = string.IsNullOrWhiteSpace(options.SslConfigFile) ? null : GrpcSslConfig.Read(options.SslConfigFile, []);
            kestrel.ListenOn(options.ListenAddress, options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (ssl is not null)
                {
                    listen.UseHttps(ssl.ToHttpsOptions());
                }

                listen.TrackForDrain();
                grpc = listen;
            });
            if (!string.IsNullOrWhiteSpace(options.GrpcSocketPath))
            {
                // tensorflow_model_server's --grpc_socket_path: the same gRPC services on a Unix socket as well.
                // Kestrel removes the socket file when it stops; one left by a crash fails the bind, reported at start
                // (deleting it here could delete another process's live socket).
                kestrel.ListenUnixSocket(Path.GetFullPath(options.GrpcSocketPath), listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    listen.TrackForDrain();
                });
            }

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
        services.AddOptions<GrpcServiceOptions>().Configure<IConfiguration>((grpc, configuration) =>
            grpc.MaxReceiveMessageSize = (int)Math.Clamp(Unvalidated(configuration).MaxRequestBodyBytes, 1024, int.MaxValue));
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

    /// <summary>The settings as configured, before validation (which runs once the host starts and reports every problem).</summary>
    private static ServingOptions Unvalidated(IConfiguration configuration) =>
        configuration.GetSection(ServingOptions.SectionName).Get<ServingOptions>() ?? new ServingOptions();

    /// <summary>
    /// TF Serving REST and gRPC, Open Inference REST and gRPC, gRPC health (<c>grpc.health.v1</c>) and reflection, and the seed's
    /// probes (<c>/healthz</c>, <c>/ready</c>).
    /// </summary>
    public static WebApplication MapInferenceServer(this WebApplication app)
    {
        // First: during a shutdown every response, even an error, asks its client to reconnect elsewhere.
        app.UseConnectionDrain();
        // A no-op unless --rest_api_enable_cors_support gave it a default policy (and for requests without Origin).
        app.UseCors();

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
        app.MapTfServingMonitoring();
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
