using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Net.Client;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing.Grpc;
using Tensorflow;
using Tensorflow.Serving;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// The inference server as its own process, so its resident memory is its own: <c>mnist</c> (the MLP of seed 42,
/// x FP32 [-1,784] → probabilities FP32 [-1,10]), <c>batched</c> (the same behind a dynamic batcher), <c>multi</c>
/// (a, b → sum, product), identity models <c>identity_{string,float16,uint8,int32,double}</c> (x → y, [-1,3]) and
/// <c>metrics_probe</c> (the MLP again, for one test's metrics alone). Bodies may be up to 8 MiB.
/// </summary>
public sealed class HostileServerFixture : IAsyncLifetime
{
    public const long MaxBodyBytes = 8 * 1024 * 1024;

    private static readonly FixtureElementType[] s_identities =
    [
        FixtureElementType.String, FixtureElementType.Float16, FixtureElementType.UInt8, FixtureElementType.Int32, FixtureElementType.Double,
    ];

    private readonly TempModelRepository _repo = new();

    public ServerProcess Server { get; private set; } = null!;

    public GrpcChannel GrpcChannel { get; private set; } = null!;

    public MlpWeights Weights { get; } = MlpWeights.Create(42);

    /// <summary>The server's peak resident memory once it had loaded its models and answered a few requests.</summary>
    public long BaselinePeakBytes { get; private set; }

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        _repo.AddMlp("batched", 1, seed: 42);
        _repo.AddMlp("metrics_probe", 1, seed: 42);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        var configs = new List<string>
        {
            """{ "name": "mnist", "base_path": "mnist" }""",
            """{ "name": "batched", "base_path": "batched", "batching": { "max_batch_size": 4, "batch_timeout_micros": 0 } }""",
            """{ "name": "metrics_probe", "base_path": "metrics_probe" }""",
            """{ "name": "multi", "base_path": "multi" }""",
        };
        foreach (var type in s_identities)
        {
            var name = "identity_" + type.ToString().ToLowerInvariant();
            _repo.AddVersion(name, 1, ModelFactory.CreateIdentity(type, 3));
            configs.Add($$"""{ "name": "{{name}}", "base_path": "{{name}}" }""");
        }

        var config = _repo.WriteConfig("models.json", $$"""{ "model_config_list": [ {{string.Join(", ", configs)}} ] }""");
        // Workstation GC: server GC grows its heaps with the machine's load, which is noise for a memory bound.
        Server = await ServerProcess.StartAsync(
            new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" },
            $"--model_config_file={config}", $"--max_request_body_bytes={MaxBodyBytes}", "--drain_delay_seconds=0");

        GrpcChannel = GrpcChannel.ForAddress(Server.GrpcAddress);
        for (var i = 0; i < 5; i++)
        {
            await AssertServesMnistAsync();
            await AssertServesMnistOverGrpcAsync();
        }

        BaselinePeakBytes = PeakResidentBytes();
    }

    public async Task DisposeAsync()
    {
        GrpcChannel?.Dispose();
        await Server.DisposeAsync();
        _repo.Dispose();
    }

    /// <summary>Peak resident set size (VmHWM) of the server process, in bytes: it catches a transient allocation too.</summary>
    public long PeakResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Server.Id}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }

        throw new InvalidOperationException("VmHWM not found");
    }

    /// <summary>A reference request on both REST APIs, every output element checked against the independent MLP.</summary>
    public async Task AssertServesMnistAsync()
    {
        var rows = TestData.MnistRows(2, seed: 17);
        var (status, body, text) = await Json.PostAsync(Server.Client, "/v1/models/mnist:predict", new JsonObject { ["instances"] = Json.Matrix(rows) });
        Assert.True(status == 200, text);
        for (var r = 0; r < rows.Length; r++)
        {
            Inference.TfServing.TfServingPredictTests.AssertClose(Weights.Evaluate(rows[r]), Json.Floats(body!["predictions"]![r]));
        }

        (status, body, text) = await Json.PostAsync(Server.Client, "/v2/models/mnist/infer", new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "x", ["shape"] = new JsonArray(2, 784), ["datatype"] = "FP32", ["data"] = Json.Matrix(rows) }),
        });
        Assert.True(status == 200, text);
        var data = Json.Floats(body!["outputs"]![0]!["data"]);
        for (var r = 0; r < rows.Length; r++)
        {
            Inference.TfServing.TfServingPredictTests.AssertClose(Weights.Evaluate(rows[r]), data[(r * 10)..((r + 1) * 10)]);
        }
    }

    /// <summary>A reference call on both gRPC APIs (raw contents and tensor_content), every output element checked against the MLP.</summary>
    public async Task AssertServesMnistOverGrpcAsync()
    {
        var rows = TestData.MnistRows(2, seed: 23);
        var flat = rows.SelectMany(r => r).ToArray();
        var infer = new ModelInferRequest { ModelName = "mnist" };
        infer.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32", Shape = { 2, MlpWeights.InputSize } });
        infer.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(flat.AsSpan())));
        var inferred = await new GRPCInferenceService.GRPCInferenceServiceClient(GrpcChannel).ModelInferAsync(infer);
        var data = MemoryMarshal.Cast<byte, float>(inferred.RawOutputContents[0].Span).ToArray();
        Assert.Equal(rows.Length * 10, data.Length);
        for (var r = 0; r < rows.Length; r++)
        {
            Inference.TfServing.TfServingPredictTests.AssertClose(Weights.Evaluate(rows[r]), data[(r * 10)..((r + 1) * 10)]);
        }

        var predict = new PredictRequest { ModelSpec = new ModelSpec { Name = "mnist" } };
        predict.Inputs.Add("x", TfTensors.Content(DataType.DtFloat, flat, rows.Length, MlpWeights.InputSize));
        var predicted = (await new PredictionService.PredictionServiceClient(GrpcChannel).PredictAsync(predict)).Outputs["probabilities"];
        var values = predicted.TensorContent.Length > 0 ? MemoryMarshal.Cast<byte, float>(predicted.TensorContent.Span).ToArray() : [.. predicted.FloatVal];
        Assert.Equal(rows.Length * 10, values.Length);
        for (var r = 0; r < rows.Length; r++)
        {
            Inference.TfServing.TfServingPredictTests.AssertClose(Weights.Evaluate(rows[r]), values[(r * 10)..((r + 1) * 10)]);
        }
    }
}
