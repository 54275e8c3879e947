namespace ServingStack.AppHost.Hosting;

/// <summary>What every ServingStack project resource shares: project defaults without launch profiles, and paths.</summary>
internal static class ServingResourceDefaults
{
    /// <summary>
    /// Launch profiles are left out so that the graph alone decides arguments and endpoints (the server's profile runs
    /// the committed demo config, which the graph replaces with its own).
    /// </summary>
    public static IResourceBuilder<T> WithServingDefaults<T>(this IResourceBuilder<T> builder, IProjectMetadata project) where T : ProjectResource
    {
        // Evaluation API: it is what AddProject itself applies, and the only way to give a project a resource type of its own.
#pragma warning disable ASPIREPROJECTS001
        builder.WithAnnotation(project)
            .WithProjectDefaults(new ProjectResourceOptions { ExcludeLaunchProfile = true });
#pragma warning restore ASPIREPROJECTS001
        if (builder.ApplicationBuilder.ExecutionContext.IsRunMode)
        {
            // Human-readable console logs in the dashboard (JSON outside Development; see ServiceDefaults).
            builder.WithEnvironment("ASPNETCORE_ENVIRONMENT", builder.ApplicationBuilder.Environment.EnvironmentName);
        }

        return builder;
    }

    /// <summary>The repository root: the AppHost's parent folder.</summary>
    public static string RepositoryRoot(this IDistributedApplicationBuilder builder) =>
        Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));

    /// <summary>Local state of a running graph (synced models, generated config), ignored by git.</summary>
    public static string LocalStateFolder(this IDistributedApplicationBuilder builder) =>
        Path.Combine(builder.RepositoryRoot(), ".servingstack");
}
