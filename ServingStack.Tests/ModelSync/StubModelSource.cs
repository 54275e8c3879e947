using ServingStack.ModelSync.Sources;

namespace ServingStack.Tests.ModelSync;

/// <summary>A source whose listing and bytes a test spells out, to reach cases a real source makes hard (lies, unsafe names).</summary>
internal sealed class StubModelSource : IModelSource
{
    public List<SourceFile> Files { get; } = [];

    public Dictionary<string, byte[]> Content { get; } = new(StringComparer.Ordinal);

    public string Description => "stub";

    public StubModelSource Add(string path, byte[] content, long? listedSize = null, ExpectedChecksum? checksum = null, bool settled = true)
    {
        Files.Add(new SourceFile(path, listedSize ?? content.Length, checksum) { Settled = settled });
        Content[path] = content;
        return this;
    }

    public Task<IReadOnlyList<SourceFile>> ListAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<SourceFile>>(Files.ToList());

    public Task<OpenedSourceFile> OpenAsync(SourceFile file, CancellationToken cancellationToken) =>
        Task.FromResult(new OpenedSourceFile(new MemoryStream(Content[file.Path], writable: false)));

    public void Dispose()
    {
    }
}
