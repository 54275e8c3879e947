using Onnx;

namespace ServingStack.Tests.Fixtures;

/// <summary>
/// The trained ResNet18 featurizer shipped in the Microsoft.ML.DnnImageFeaturizer.ResNet18 NuGet
/// package (CNTK export, IR 3, opset 8), and a rewrite of it with a symbolic batch dimension.
/// </summary>
public static class ResNet18Model
{
    public const string PackageId = "microsoft.ml.dnnimagefeaturizer.resnet18";
    public const string PackageVersion = "0.23.1";

    /// <summary>Path of the model inside the package folder.</summary>
    public static readonly string RelativeModelPath =
        Path.Combine("tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>FP32 input [1,3,224,224] in the packaged model; [batch,3,224,224] after <see cref="WriteDynamicBatch"/>.</summary>
    public const string InputName = "Input247";
    public const int InputChannels = 3;
    public const int InputHeight = 224;
    public const int InputWidth = 224;

    /// <summary>FP32 output [1,512,1,1] (global average pool) in the packaged model; [batch,512,1,1] after the rewrite.</summary>
    public const string OutputName = "Pooling395_Output_0";
    public const int OutputChannels = 512;

    /// <summary>
    /// Finds ResNet18.onnx: first in <paramref name="packageFolder"/> (the versioned package folder,
    /// e.g. MSBuild's $(PkgMicrosoft_ML_DnnImageFeaturizer_ResNet18), or the .onnx file itself),
    /// then under $NUGET_PACKAGES, then under ~/.nuget/packages. Returns null when it isn't restored.
    /// </summary>
    public static string? FindPackagedModel(string? packageFolder = null)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(packageFolder))
        {
            candidates.Add(packageFolder);
            candidates.Add(Path.Combine(packageFolder, RelativeModelPath));
        }

        var nugetPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (!string.IsNullOrEmpty(nugetPackages))
        {
            candidates.Add(Path.Combine(nugetPackages, PackageId, PackageVersion, RelativeModelPath));
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            candidates.Add(Path.Combine(home, ".nuget", "packages", PackageId, PackageVersion, RelativeModelPath));
        }

        // File.Exists is false for directories, so a folder argument falls through to its combined path.
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// Rewrites the model at <paramref name="sourcePath"/> so dim 0 of every graph input and output is
    /// the symbolic <see cref="ModelFactory.BatchDimension"/>, and writes it to <paramref name="destinationPath"/>.
    /// </summary>
    public static void WriteDynamicBatch(string sourcePath, string destinationPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourcePath);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);

        var model = ModelProto.Parser.ParseFromFile(sourcePath);
        var graph = model.Graph;

        // Old exporters list initializers among the inputs; those are weights, not batched data.
        var initializerNames = graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var input in graph.Input.Where(i => !initializerNames.Contains(i.Name)))
        {
            SetBatchDim(input);
        }

        foreach (var output in graph.Output)
        {
            SetBatchDim(output);
        }

        // The CNTK export pins every intermediate value_info to batch 1, which would clash with
        // batch > 1 at run time. value_info is only a hint, so drop it and let ORT infer shapes.
        // (OnnxSharp's GraphExtensions.SetDim rewrites these instead, but it throws on rank-0
        // value_info and on Reshape shapes that aren't initializers, so we don't rely on it.)
        graph.ValueInfo.Clear();

        var directory = Path.GetDirectoryName(Path.GetFullPath(destinationPath));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        model.WriteToFile(destinationPath);
    }

    private static void SetBatchDim(ValueInfoProto valueInfo)
    {
        var dims = valueInfo.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count == 0)
        {
            throw new InvalidOperationException($"'{valueInfo.Name}' has no tensor shape to make batched.");
        }

        dims[0] = new TensorShapeProto.Types.Dimension { DimParam = ModelFactory.BatchDimension };
    }
}
