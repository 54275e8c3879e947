namespace ServingStack.ModelSync.Sources;

/// <summary>A place model versions are synced from, laid out as the repository: <c>{model}/{version}/{file}</c>.</summary>
public interface IModelSource : IDisposable
{
    /// <summary>For logs and messages; never contains credentials.</summary>
    string Description { get; }

    /// <summary>Every file under the source root; anything not under <c>{model}/{version}/</c> is ignored by the caller.</summary>
    /// <exception cref="ModelSourceException">The source could not be listed; the message says why.</exception>
    Task<IReadOnlyList<SourceFile>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Opens one listed file for reading.</summary>
    /// <exception cref="ModelSourceException">The file could not be opened; the message says why.</exception>
    Task<OpenedSourceFile> OpenAsync(SourceFile file, CancellationToken cancellationToken);
}
