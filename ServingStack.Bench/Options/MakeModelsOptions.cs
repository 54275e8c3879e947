using ServingStack.Bench.Cli;

namespace ServingStack.Bench.Options;

/// <summary>Options of <c>make-models</c>: writes the benchmark model repository.</summary>
public sealed record MakeModelsOptions
{
    public const string Mnist = "mnist";
    public const string Wide = "wide";
    public const string ResNet18 = "resnet18";

    public static IReadOnlyList<string> AllModels { get; } = [Mnist, Wide, ResNet18];

    public static CommandSpec Command { get; } = new(
        "make-models",
        "Writes the benchmark models (MNIST MLP, wide MLP, ResNet18) and a models.json the server can load.",
        [
            new("output", "DIR", "Repository folder: DIR/{model}/1/model.onnx and DIR/models.json", "bench-models"),
            new("models", "LIST", "Which models: " + string.Join(",", AllModels), string.Join(",", AllModels)),
            new("seed", "N", "Weight seed of the MNIST and wide MLPs", "42"),
        ],
        [
            "make-models --output bench-models",
            "dotnet run --project ServingStack.Inference -c Release -- --model_config_file=$PWD/bench-models/models.json",
        ]);

    public string OutputDirectory { get; init; } = "bench-models";

    public IReadOnlyList<string> Models { get; init; } = AllModels;

    public int Seed { get; init; } = 42;

    public static MakeModelsOptions Bind(Cli.ParsedArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var models = (args.Get("models") ?? string.Join(",", AllModels))
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(m => m.ToLowerInvariant())
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        return new MakeModelsOptions
        {
            OutputDirectory = args.Get("output") ?? "bench-models",
            Models = models,
            Seed = args.Int("seed", 42, int.MinValue, int.MaxValue),
        };
    }
}
