namespace ServingStack.ModelSync.Sources;

/// <summary>A file being read from a source; disposing it releases the response or handle behind the stream.</summary>
public sealed class OpenedSourceFile : IAsyncDisposable
{
    private readonly IDisposable? _owner;

    public OpenedSourceFile(Stream content, IDisposable? owner = null)
    {
        Content = content;
        _owner = owner;
    }

    public Stream Content { get; }

    /// <summary>Length the response announces (Content-Length), when it does.</summary>
    public long? Length { get; init; }

    /// <summary>Digest the source vouches for at read time (an S3 object's checksum or ETag); overrides the listing's.</summary>
    public ExpectedChecksum? Checksum { get; init; }

    /// <summary>Why a source that normally vouches for a digest has none for this file (logged as a warning), or null.</summary>
    public string? UnverifiableReason { get; init; }

    /// <summary>Called after the whole file was read: returns why the copy cannot be trusted (the file changed meanwhile), or null.</summary>
    public Func<CancellationToken, ValueTask<string?>>? Confirm { get; init; }

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        _owner?.Dispose();
    }
}
