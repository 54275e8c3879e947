namespace ServingStack.AppHost.Hosting;

public static class InferenceServiceResourceExtensions
{
    /// <summary>The sync settings a published server reads to fill its repository at start (see AddInferenceService).</summary>
    public const string StartupSyncSource = "ModelSync__Source";

    public const string StartupSyncTarget = "ModelSync__Target";

    public const string StartupSyncS3Endpoint = "ModelSync__S3Endpoint";

    /// <summary>
    /// Adds an inference server: REST (<c>rest</c>, container port 8501) and gRPC (<c>grpc</c>, h2c, 8500) endpoints and a
    /// readiness check on <c>/ready</c>. Locally it reads the model config and batching files the graph describes (written
    /// under <c>.servingstack/{name}</c>). Published (aspire-manifest.json), everything it needs is in its environment: the
    /// models and batching parameters (<c>Serving__ModelConfigList__*</c>, <c>Serving__BatchingParameters__*</c>) and its
    /// sync's source, which it copies into <see cref="ServingPaths.StartupSyncModelStore"/> before it starts, so any tool
    /// that deploys the manifest gets running servers. Our Kubernetes publisher replaces the three with a ConfigMap and
    /// the sync's init container and sidecar.
    /// </summary>
    public static IResourceBuilder<InferenceServiceResource> AddInferenceService(this IDistributedApplicationBuilder builder, string name, int? restPort = null, int? grpcPort = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var publish = builder.ExecutionContext.IsPublishMode;
        var resource = new InferenceServiceResource(name) { LocalConfigFolder = Path.Combine(builder.LocalStateFolder(), name) };
        var service = builder.AddResource(resource)
            .WithServingDefaults(new Projects.ServingStack_Inference())
            .WithHttpEndpoint(name: "rest", port: restPort, targetPort: publish ? ServingPaths.RestPort : null, env: "Serving__RestApiPort")
            .WithHttpEndpoint(name: "grpc", port: grpcPort, targetPort: publish ? ServingPaths.GrpcPort : null, env: "Serving__Port")
            .WithEndpoint("grpc", endpoint => endpoint.Transport = "http2")
            .WithHttpHealthCheck("/ready", endpointName: "rest")
            .WithArgs(context =>
            {
                if (!publish)
                {
                    context.Args.Add($"--model_config_file={resource.LocalConfigFolder}/{ServingPaths.ModelConfigFileName}");
                    // Picks up a regenerated local file without a restart.
                    context.Args.Add("--model_config_file_poll_wait_seconds=30");
                }

                if (resource.Batching is not null)
                {
                    context.Args.Add("--enable_batching=true");
                    if (!publish)
                    {
                        context.Args.Add($"--batching_parameters_file={resource.LocalConfigFolder}/{ServingPaths.BatchingConfigFileName}");
                    }
                }

                context.Args.Add(resource.Gpus > 0 ? "--execution_provider=cuda" : "--execution_provider=cpu");
            })
            .WithEnvironment(context =>
            {
                if (!publish)
                {
                    return;
                }

                var env = context.EnvironmentVariables;
                foreach (var (key, value) in ServingConfigFiles.ModelConfigEnvironment(resource.Models, ServingPaths.StartupSyncModelStore))
                {
                    env[key] = value;
                }

                if (resource.Batching is { } batching)
                {
                    foreach (var (key, value) in ServingConfigFiles.BatchingEnvironment(batching))
                    {
                        env[key] = value;
                    }
                }

                if (resource.ModelSync is { } sync)
                {
                    env[StartupSyncSource] = sync.PublishedSource;
                    env[StartupSyncTarget] = ServingPaths.StartupSyncModelStore;
                    if (sync.S3Endpoint is { } endpoint)
                    {
                        env[StartupSyncS3Endpoint] = endpoint;
                    }
                }
            });

        if (builder.ExecutionContext.IsRunMode)
        {
            // Written once before anything starts: replicas share the files, and the sync target must exist for them.
            builder.Eventing.Subscribe<BeforeStartEvent>((_, _) =>
            {
                WriteLocalConfig(resource, builder.LocalStateFolder());
                return Task.CompletedTask;
            });
        }

        return service;
    }

    /// <summary>Fill this service's repository with <paramref name="sync"/> (locally: wait until its first pass is done).</summary>
    public static IResourceBuilder<InferenceServiceResource> WithModelSync(this IResourceBuilder<InferenceServiceResource> builder, IResourceBuilder<ModelSyncResource> sync)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(sync);
        builder.Resource.ModelSync = sync.Resource;
        return builder.WaitFor(sync);
    }

    /// <summary>
    /// Serve <paramref name="model"/>: one <paramref name="version"/> (optionally under <paramref name="label"/>), or,
    /// without a version, its newest <paramref name="latest"/> versions.
    /// </summary>
    public static IResourceBuilder<InferenceServiceResource> WithModel(this IResourceBuilder<InferenceServiceResource> builder, string model, long? version = null, string? label = null, int latest = 1)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (label is not null && version is null)
        {
            throw new ArgumentException($"Model '{model}': a label needs the version it points to.", nameof(label));
        }

        var labels = new Dictionary<string, long>(StringComparer.Ordinal);
        if (label is not null)
        {
            labels[label] = version!.Value;
        }

        builder.Resource.AddModel(new ServedModel(model, version is { } v ? [v] : [], labels, latest));
        return builder;
    }

    /// <summary>Server-side dynamic batching for every model of the service (TF Serving's batching parameters).</summary>
    public static IResourceBuilder<InferenceServiceResource> WithBatching(this IResourceBuilder<InferenceServiceResource> builder, int maxBatchSize = 32, TimeSpan? batchTimeout = null, int maxEnqueuedBatches = 100, int numBatchThreads = 2)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEnqueuedBatches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numBatchThreads, 1);
        builder.Resource.Batching = new BatchingSettings(maxBatchSize, batchTimeout ?? TimeSpan.FromMilliseconds(2), maxEnqueuedBatches, numBatchThreads);
        return builder;
    }

    /// <summary>
    /// Run on <paramref name="count"/> NVIDIA GPUs per replica: the server asks for CUDA (falling back to CPU, and saying
    /// so, when CUDA cannot start), and published pods request <c>nvidia.com/gpu</c>.
    /// </summary>
    public static IResourceBuilder<InferenceServiceResource> WithGpu(this IResourceBuilder<InferenceServiceResource> builder, int count = 1)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        builder.Resource.Gpus = count;
        return builder;
    }

    /// <summary>Replicas: local instances behind one proxied endpoint, and the published Deployment's replica count.</summary>
    public static IResourceBuilder<InferenceServiceResource> WithReplicas(this IResourceBuilder<InferenceServiceResource> builder, int replicas)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicas, 1);
        return builder.WithAnnotation(new ReplicaAnnotation(replicas), ResourceAnnotationMutationBehavior.Replace);
    }

    /// <summary>Kubernetes requests and limits per replica.</summary>
    public static IResourceBuilder<InferenceServiceResource> WithCompute(this IResourceBuilder<InferenceServiceResource> builder, string cpuRequest, string memoryRequest, string cpuLimit, string memoryLimit)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.Compute = new ComputeResources(cpuRequest, memoryRequest, cpuLimit, memoryLimit);
        return builder;
    }

    /// <summary>A HorizontalPodAutoscaler for the published Deployment (the graph's replicas are its starting point).</summary>
    public static IResourceBuilder<InferenceServiceResource> WithAutoscaling(this IResourceBuilder<InferenceServiceResource> builder, int minReplicas, int maxReplicas, int cpuUtilization = 70, int memoryUtilization = 80, int requestsPerSecondPerPod = 200)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(minReplicas, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxReplicas, minReplicas);
        builder.Resource.Autoscaling = new AutoscalingSettings(minReplicas, maxReplicas, cpuUtilization, memoryUtilization, requestsPerSecondPerPod);
        return builder;
    }

    /// <summary>The replicas the graph asks for (1 without <see cref="WithReplicas"/>).</summary>
    public static int Replicas(this ProjectResource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return resource.Annotations.OfType<ReplicaAnnotation>().LastOrDefault()?.Replicas ?? 1;
    }

    private static void WriteLocalConfig(InferenceServiceResource resource, string stateFolder)
    {
        var store = resource.ModelSync?.LocalTarget ?? Path.Combine(stateFolder, "model-store");
        Directory.CreateDirectory(store);
        Directory.CreateDirectory(resource.LocalConfigFolder);
        WriteIfChanged(Path.Combine(resource.LocalConfigFolder, ServingPaths.ModelConfigFileName), ServingConfigFiles.ModelConfig(resource.Models, store.Replace('\\', '/')));
        if (resource.Batching is { } batching)
        {
            WriteIfChanged(Path.Combine(resource.LocalConfigFolder, ServingPaths.BatchingConfigFileName), ServingConfigFiles.BatchingParameters(batching));
        }
    }

    private static void WriteIfChanged(string path, string content)
    {
        if (File.Exists(path) && string.Equals(File.ReadAllText(path), content, StringComparison.Ordinal))
        {
            return;
        }

        // Whole-file replace: a server polling the config never reads half a file.
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
