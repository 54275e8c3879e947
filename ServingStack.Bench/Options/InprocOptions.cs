using ServingStack.Bench.Cli;

namespace ServingStack.Bench.Options;

/// <summary>Options of <c>inproc</c>: ONNX Runtime called directly, the ceiling a server can approach.</summary>
public sealed record InprocOptions
{
    private static readonly Dictionary<string, ExecutionProvider> Providers = new(StringComparer.Ordinal)
    {
        ["cpu"] = ExecutionProvider.Cpu,
        ["cuda"] = ExecutionProvider.Cuda,
    };

    public static CommandSpec Command { get; } = new(
        "inproc",
        "ONNX Runtime in this process (InferenceSession + OrtValues over preallocated buffers) at each batch size.",
        [
            new("model-file", "PATH", "The .onnx file (required)"),
            new("model-name", "NAME", "Model name in the results", "the version folder's parent, or the file name"),
            new("batch-sizes", "LIST", "Batch sizes (dim 0), one step each: 1,8,32", "1,8,32"),
            new("concurrency", "N", "Threads calling Run at once, each with its own buffers", "1"),
            new("threads", "N", "ONNX Runtime intra-op threads; 0: ONNX Runtime's default capped to a container's CPU limit, as the server does", "0"),
            new("provider", "cpu|cuda", "Execution provider", "cpu"),
            new("device-id", "N", "CUDA device", "0"),
            .. LoadOptions.Specs,
        ],
        [
            "inproc --model-file bench-models/mnist/1/model.onnx --batch-sizes 1,8,32,128 --duration 5s",
            "inproc --model-file bench-models/wide/1/model.onnx --batch-sizes 1,32 --threads 4 --label \"ort 4 threads\"",
        ]);

    public string ModelFile { get; init; } = string.Empty;

    public string? ModelName { get; init; }

    public IReadOnlyList<int> BatchSizes { get; init; } = [1, 8, 32];

    public int Concurrency { get; init; } = 1;

    public int Threads { get; init; }

    public ExecutionProvider Provider { get; init; } = ExecutionProvider.Cpu;

    public int DeviceId { get; init; }

    public LoadOptions Load { get; init; } = new();

    public string ProtocolName => Provider == ExecutionProvider.Cpu ? "onnxruntime-cpu" : "onnxruntime-cuda";

    /// <summary>The name results use: --model-name, else {name}/{version}/model.onnx's name, else the file name.</summary>
    public string ResolvedModelName
    {
        get
        {
            if (!string.IsNullOrEmpty(ModelName))
            {
                return ModelName;
            }

            var full = Path.GetFullPath(ModelFile);
            var versionFolder = Path.GetDirectoryName(full);
            var modelFolder = versionFolder is null ? null : Path.GetDirectoryName(versionFolder);
            return versionFolder is not null && modelFolder is not null && long.TryParse(Path.GetFileName(versionFolder), out _)
                ? Path.GetFileName(modelFolder)
                : Path.GetFileNameWithoutExtension(full);
        }
    }

    public static InprocOptions Bind(ParsedArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return new InprocOptions
        {
            ModelFile = args.Require("model-file") ?? string.Empty,
            ModelName = args.Get("model-name"),
            BatchSizes = args.IntList("batch-sizes", "1,8,32", 1, 1 << 20),
            Concurrency = args.Int("concurrency", 1, 1, 256),
            Threads = args.Int("threads", 0, 0, 1024),
            Provider = args.Choice("provider", ExecutionProvider.Cpu, Providers),
            DeviceId = args.Int("device-id", 0, 0, 64),
            Load = LoadOptions.Bind(args),
        };
    }
}
