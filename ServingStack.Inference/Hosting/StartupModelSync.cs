using ServingStack.ModelSync.Hosting;

namespace ServingStack.Inference.Hosting;

/// <summary>
/// Fills the model repository before the server starts, when the environment names a source (<c>ModelSync__Source</c>,
/// <c>ModelSync__Target</c>): the sync's <c>--once</c> pass run in this process, so a pod that has no sync init container
/// or sidecar (a deployment made by a generic tool from aspire-manifest.json) still starts with complete, verified
/// versions. It exits with the sync's code when the pass is incomplete, as the init container would.
/// </summary>
public static class StartupModelSync
{
    public const string SourceKey = "ModelSync:Source";

    /// <summary>0 when nothing is configured or the pass completed; otherwise the sync's exit code.</summary>
    public static async Task<int> RunIfConfiguredAsync(CancellationToken cancellationToken = default)
    {
        var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        if (string.IsNullOrWhiteSpace(environment[SourceKey]))
        {
            return 0;
        }

        // The sync reads the rest of its settings (ModelSync__Target, credentials, S3 endpoint) from the same environment.
        var sync = ModelSyncApp.Create(["--once"]);
        return await sync.RunModelSyncAsync(cancellationToken);
    }
}
