namespace ServingStack.Tests.Fixtures;

/// <summary>A model repository in a fresh temporary folder, deleted on dispose.</summary>
public sealed class TempModelRepository : IDisposable
{
    public TempModelRepository()
    {
        Root = Path.Combine(Path.GetTempPath(), "servingstack-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string ModelPath(string model) => Path.Combine(Root, model);

    public string AddVersion(string model, long version, byte[] onnx) => ModelFactory.WriteVersion(ModelPath(model), version, onnx);

    public string AddMlp(string model, long version, int seed) => AddVersion(model, version, ModelFactory.CreateMlp(MlpWeights.Create(seed)));

    public string WriteConfig(string fileName, string text)
    {
        var path = Path.Combine(Root, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
