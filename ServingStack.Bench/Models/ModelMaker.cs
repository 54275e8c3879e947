using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using ServingStack.Bench.Options;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Bench.Models;

/// <summary>Writes the benchmark repository: {output}/{model}/1/model.onnx for each model, and {output}/models.json.</summary>
public static class ModelMaker
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Returns the names written; writes a line per model (or why it was skipped) to <paramref name="log"/>.</summary>
    public static IReadOnlyList<string> Write(MakeModelsOptions options, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        var root = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(root);
        var written = new List<string>();
        foreach (var name in options.Models)
        {
            var stopwatch = Stopwatch.StartNew();
            var basePath = Path.Combine(root, name);
            string? path;
            switch (name)
            {
                case MakeModelsOptions.Mnist:
                    path = ModelFactory.WriteVersion(basePath, 1, ModelFactory.CreateMlp(MlpWeights.Create(options.Seed)));
                    break;
                case MakeModelsOptions.Wide:
                    path = ModelFactory.WriteVersion(basePath, 1, ModelFactory.CreateWideMlp(options.Seed));
                    break;
                case MakeModelsOptions.ResNet18:
                    var source = ResNet18Model.FindPackagedModel(RestoredResNet18Package());
                    if (source is null)
                    {
                        log($"resnet18: skipped, the NuGet package {ResNet18Model.PackageId} {ResNet18Model.PackageVersion} is not restored " +
                            "(run 'dotnet restore ServingStack.Bench' with access to the package feed).");
                        continue;
                    }

                    path = Path.Combine(basePath, "1", "model.onnx");
                    ResNet18Model.WriteDynamicBatch(source, path);
                    break;
                default:
                    throw new BenchException($"Unknown model '{name}'.");
            }

            written.Add(name);
            log(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {path} ({new FileInfo(path).Length / 1e6:0.0} MB, {stopwatch.Elapsed.TotalSeconds:0.00} s)"));
        }

        var configPath = Path.Combine(root, "models.json");
        var config = new
        {
            model_config_list = written.Select(name => new { name, base_path = name, platform = "onnx" }).ToArray(),
        };
        File.WriteAllText(configPath, JsonSerializer.Serialize(config, Indented) + "\n");
        log($"models.json: {configPath} ({written.Count} models, base paths relative to it)");
        return written;
    }

    /// <summary>Where restore put the ResNet18 package when this tool was built (assembly metadata), or null.</summary>
    private static string? RestoredResNet18Package() =>
        typeof(ModelMaker).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ResNet18PackagePath")?.Value is { Length: > 0 } path ? path : null;
}
