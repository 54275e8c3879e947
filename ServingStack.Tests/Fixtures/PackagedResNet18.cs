using System.Reflection;

namespace ServingStack.Tests.Fixtures;

/// <summary>ResNet18.onnx where restore put its package (recorded at build time), or a clear failure; never a skip.</summary>
public static class PackagedResNet18
{
    public static string Path()
    {
        var folder = typeof(PackagedResNet18).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ResNet18PackagePath")?.Value;
        return ResNet18Model.FindPackagedModel(string.IsNullOrEmpty(folder) ? null : folder)
            ?? throw new InvalidOperationException("ResNet18.onnx was not restored with Microsoft.ML.DnnImageFeaturizer.ResNet18");
    }
}
