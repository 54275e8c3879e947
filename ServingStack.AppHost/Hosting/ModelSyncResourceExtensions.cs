namespace ServingStack.AppHost.Hosting;

public static class ModelSyncResourceExtensions
{
    /// <summary>
    /// Adds the model sync. Locally it copies <paramref name="localSource"/> (relative to the AppHost) into
    /// <c>.servingstack/model-store</c>, which every local server reads; published, it syncs from the
    /// <c>{name}-source</c> parameter (default <paramref name="publishedSource"/>) into each pod's <c>/models</c>.
    /// </summary>
    public static IResourceBuilder<ModelSyncResource> AddModelSync(this IDistributedApplicationBuilder builder, string name, string localSource, string publishedSource = "s3://models")
    {
        ArgumentNullException.ThrowIfNull(builder);
        var source = builder.AddParameter($"{name}-source", new OverridableParameterDefault(publishedSource));
        var resource = new ModelSyncResource(name, Path.GetFullPath(Path.Combine(builder.AppHostDirectory, localSource)), source.Resource)
        {
            LocalTarget = Path.Combine(builder.LocalStateFolder(), "model-store"),
        };
        var publish = builder.ExecutionContext.IsPublishMode;
        if (builder.ExecutionContext.IsRunMode)
        {
            // The local store is a copy of the source folder, rebuilt on every start: the sync never rewrites a
            // published version, so a demo model changed in the repository would otherwise leave the sync unhealthy.
            builder.Eventing.Subscribe<BeforeStartEvent>((_, _) =>
            {
                if (Directory.Exists(resource.LocalTarget))
                {
                    Directory.Delete(resource.LocalTarget, recursive: true);
                }

                Directory.CreateDirectory(resource.LocalTarget);
                return Task.CompletedTask;
            });
        }

        var sync = builder.AddResource(resource)
            .WithServingDefaults(new Projects.ServingStack_ModelSync())
            .WithHttpEndpoint(name: "http", targetPort: publish ? ServingPaths.ModelSyncPort : null)
            .WithHttpHealthCheck("/ready", endpointName: "http")
            .WithEnvironment(context =>
            {
                var env = context.EnvironmentVariables;
                if (publish)
                {
                    // An endpoint of Kestrel's own configuration wins over ASPNETCORE_URLS, which deployment tools set
                    // to a port of their choosing: the sync listens where its Service and probes say.
                    env["Kestrel__Endpoints__http__Url"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"http://*:{ServingPaths.ModelSyncPort}");
                }

                env["ModelSync__Source"] = publish ? source.Resource : resource.LocalSource;
                env["ModelSync__Target"] = publish ? ServingPaths.ModelStore : resource.LocalTarget;
                env["ModelSync__Interval"] = resource.IntervalArgument;
                env["ModelSync__Keep"] = resource.Keep.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (publish && resource.S3Endpoint is { } endpoint)
                {
                    env["ModelSync__S3Endpoint"] = endpoint;
                }
            });

        if (publish)
        {
            // Published, the sync runs inside each inference pod (our publisher's init container and sidecar), or as a
            // pass in the server's own process before it starts (any other tool; see AddInferenceService): a Deployment
            // of its own would fill a folder no server reads.
            sync.ExcludeFromManifest();
        }

        return sync;
    }

    /// <summary>How often the sync polls its source (the init container always runs once).</summary>
    public static IResourceBuilder<ModelSyncResource> WithInterval(this IResourceBuilder<ModelSyncResource> builder, TimeSpan interval)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.FromSeconds(1));
        builder.Resource.Interval = interval;
        return builder;
    }

    /// <summary>Keep only the newest <paramref name="versions"/> versions of each model.</summary>
    public static IResourceBuilder<ModelSyncResource> WithRetention(this IResourceBuilder<ModelSyncResource> builder, int versions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentOutOfRangeException.ThrowIfNegative(versions);
        builder.Resource.Keep = versions;
        return builder;
    }

    /// <summary>
    /// Published pods read <c>s3://</c> sources through <paramref name="endpoint"/> (MinIO, Ceph...) with the keys in the
    /// Secret <paramref name="credentialsSecret"/> (<c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c>), referenced by name.
    /// </summary>
    public static IResourceBuilder<ModelSyncResource> WithS3(this IResourceBuilder<ModelSyncResource> builder, string? endpoint, string? credentialsSecret)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Resource.S3Endpoint = endpoint;
        builder.Resource.CredentialsSecret = credentialsSecret;
        return builder;
    }
}
