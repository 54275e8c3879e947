using Microsoft.Extensions.Options;
using ServingStack.ModelSync.Configuration;

namespace ServingStack.ModelSync.Sources;

/// <summary>Builds the source <c>--source</c> names.</summary>
public static class ModelSourceFactory
{
    /// <summary>How long a folder source waits between its two listings.</summary>
    public static readonly TimeSpan FolderSettleTime = TimeSpan.FromSeconds(1);

    public static IModelSource Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<ModelSyncOptions>>().Value;
        return Create(options, services.GetService<TimeProvider>());
    }

    public static IModelSource Create(ModelSyncOptions options, TimeProvider? time = null)
    {
        if (!SourceLocation.TryParse(options.Source, out var location, out var error))
        {
            throw new OptionsValidationException(ModelSyncOptions.SectionName, typeof(ModelSyncOptions), [$"ModelSync:Source (--source) {error}."]);
        }

        return location!.Kind switch
        {
            SourceKind.S3 => S3ModelSource.Create(location, options.S3Endpoint, noProgressTimeout: options.NoProgressTimeoutValue, time: time),
            SourceKind.HttpIndex => HttpIndexModelSource.Create(location, options.NoProgressTimeoutValue, time),
            _ => new FileSystemModelSource(location.Folder!, FolderSettleTime, time),
        };
    }
}
