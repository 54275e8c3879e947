using System.Globalization;
using ServingStack.Bench.Cli;

namespace ServingStack.Bench.Options;

/// <summary>Options of <c>run</c>: closed-loop load against a server over REST or gRPC.</summary>
public sealed record RunOptions
{
    public const string RandomInput = "random";

    private static readonly Dictionary<string, BenchProtocol> Protocols = new(StringComparer.Ordinal)
    {
        ["rest"] = BenchProtocol.Rest,
        ["grpc"] = BenchProtocol.Grpc,
        ["tf-grpc"] = BenchProtocol.TfGrpc,
    };

    private static readonly Dictionary<string, RestFormat> RestFormats = new(StringComparer.Ordinal)
    {
        ["v2"] = RestFormat.V2,
        ["tf"] = RestFormat.Tf,
        ["binary"] = RestFormat.Binary,
    };

    public static CommandSpec Command { get; } = new(
        "run",
        "Closed-loop load against a server (REST or gRPC) at each concurrency; latency percentiles and throughput.",
        [
            new("protocol", "rest|grpc|tf-grpc", "Protocol: REST, Open Inference gRPC ModelInfer, or TF Serving gRPC Predict", "rest"),
            new("url", "URL", "Server address; must be loopback", "http://127.0.0.1:8501 (rest), http://127.0.0.1:8500 (grpc)"),
            new("model", "NAME", "Model to infer with (required)"),
            new("version", "V", "Model version; without it the server picks the newest"),
            new("rest-format", "v2|binary|tf", "REST body: Open Inference v2 JSON, v2 with binary tensors (Triton's extension), or TF Serving :predict rows", "v2"),
            new("raw", null, "gRPC: raw_input_contents instead of typed contents; tf-grpc: tensor_content instead of typed *_val"),
            new("rows-per-request", "N", "Rows (dim 0) per request, replacing the model's -1 batch dimension", "1"),
            new("input", "random|PATH", "Random input of the model's shape, or a JSON file holding an Open Inference body {\"inputs\":[...]}", RandomInput),
            new("concurrency", "LIST", "Concurrent workers, one step each: 1,8,32", "1"),
            .. LoadOptions.Specs,
            new("timeout", "TIME", "Per-request timeout", "30s"),
        ],
        [
            "run --protocol rest --url http://127.0.0.1:8501 --model mnist --concurrency 1,8,32 --duration 10s",
            "run --protocol rest --rest-format tf --model mnist --rows-per-request 8 --label \"tf rows\"",
            "run --protocol grpc --url http://127.0.0.1:8500 --model wide --raw --concurrency 1,4,16 --label \"batching on\"",
            "run --protocol tf-grpc --raw --url http://127.0.0.1:8500 --model mnist --label \"tf serving tensor_content\"",
            "run --protocol rest --rest-format binary --model mnist --concurrency 1,8",
        ]);

    public BenchProtocol Protocol { get; init; } = BenchProtocol.Rest;

    /// <summary>The server's base address; null when it did not parse.</summary>
    public Uri? Url { get; init; }

    public string Model { get; init; } = string.Empty;

    public string? Version { get; init; }

    public RestFormat RestFormat { get; init; } = RestFormat.V2;

    /// <summary>Whether --rest-format was given (it only applies to REST).</summary>
    public bool RestFormatGiven { get; init; }

    public bool Raw { get; init; }

    public int RowsPerRequest { get; init; } = 1;

    /// <summary>"random" or the path of a JSON file.</summary>
    public string Input { get; init; } = RandomInput;

    public IReadOnlyList<int> Concurrency { get; init; } = [1];

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public LoadOptions Load { get; init; } = new();

    /// <summary>
    /// The protocol as results name it: rest-v2, rest-binary, rest-tf, grpc-typed, grpc-raw, tf-grpc-typed or
    /// tf-grpc-content.
    /// </summary>
    public string ProtocolName => Protocol switch
    {
        BenchProtocol.Rest => RestFormat switch { RestFormat.V2 => "rest-v2", RestFormat.Binary => "rest-binary", _ => "rest-tf" },
        BenchProtocol.Grpc => Raw ? "grpc-raw" : "grpc-typed",
        _ => Raw ? "tf-grpc-content" : "tf-grpc-typed",
    };

    /// <summary>Reads the options; syntax errors go to <paramref name="args"/>'s errors.</summary>
    public static RunOptions Bind(ParsedArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var protocol = args.Choice("protocol", BenchProtocol.Rest, Protocols);
        var urlText = args.Get("url") ?? (protocol == BenchProtocol.Rest ? "http://127.0.0.1:8501" : "http://127.0.0.1:8500");
        Uri? url = null;
        if (!Uri.TryCreate(urlText, UriKind.Absolute, out url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            args.Errors.Add($"Option '--url' must be an absolute http:// or https:// address, not '{urlText}'.");
            url = null;
        }

        return new RunOptions
        {
            Protocol = protocol,
            Url = url,
            Model = args.Require("model") ?? string.Empty,
            Version = args.Get("version"),
            RestFormat = args.Choice("rest-format", RestFormat.V2, RestFormats),
            RestFormatGiven = args.Has("rest-format"),
            Raw = args.Flag("raw"),
            RowsPerRequest = args.Int("rows-per-request", 1, 1, 1 << 20),
            Input = args.Get("input") ?? RandomInput,
            Concurrency = args.IntList("concurrency", "1", 1, 4096),
            RequestTimeout = args.Duration("timeout", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1)),
            Load = LoadOptions.Bind(args),
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{ProtocolName} {Url} model={Model} version={Version ?? "latest"} rows/request={RowsPerRequest} concurrency={string.Join(',', Concurrency)}");
}
