using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Gateway;
using ServingStack.Tests.Inference.TfServing.Grpc;
using Tensorflow;
using Tensorflow.Serving;
using Xunit.Abstractions;
using InferInput = ServingStack.Inference.Protocols.OpenInference.Grpc.ModelInferRequest.Types.InferInputTensor;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// A seeded mutation fuzzer over valid requests (JSON on both REST APIs, Triton's binary extension, ModelInfer and
/// Predict protobuf): at most <see cref="MaxMutants"/> mutants or <see cref="WallTime"/>, whichever ends first. No
/// mutant may get a 5xx (gRPC: UNKNOWN or INTERNAL); afterwards the server answers the reference requests with the
/// MLP's numbers, and its resident memory (VmRSS of the server process) stayed within <see cref="MemoryBound"/> of
/// where it started. A failure names the seed, the mutant's index and its bytes, so it reproduces: CI runs the fixed
/// seed; <c>SERVINGSTACK_FUZZ_SEED</c> runs another (to explore, or to replay a failure found with it).
/// </summary>
[Collection(HostileServerCollection.Name)]
public sealed class MutationFuzzerTests(HostileServerFixture fixture, ITestOutputHelper output)
{
    private const int FixedSeed = 20261201;
    private const int MaxMutants = 2000;
    private static readonly TimeSpan WallTime = TimeSpan.FromSeconds(60);

    // The largest mutant is under 1 MiB (a seed of a few KiB, duplicated, or a number nested 100,000 deep), and the
    // server's work is bounded by the body: parse buffers, tensors and ORT's buffers for a row or a few are a few MiB
    // per request, one request at a time. What else may move is the managed heap (workstation GC keeps some freed
    // segments) and ORT's arena for batch shapes it has not seen: 128 MiB is well over both, and well under what one
    // unbounded allocation (a declared shape taken at its word: GiBs) would cost.
    private const long MemoryBound = 128L * 1024 * 1024;

    private static readonly string[] s_datatypes = ["FP32", "FP64", "BYTES", "INT8", "BOOL", "FP16", "UINT64", "", "fp32", "X"];
    private static readonly long[] s_dims = [0, -1, -7, 2, 3, 10, 784, 268435455, 3037000500, 2147483648, long.MaxValue];

    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("SERVINGSTACK_FUZZ_SEED"), CultureInfo.InvariantCulture, out var seed)
        ? seed
        : FixedSeed;

    [Fact]
    public async Task Mutants_of_valid_requests_never_get_a_server_error_and_leave_the_server_correct_and_bounded()
    {
        var rest = RestSeeds();
        var grpc = GrpcSeeds();
        var mutator = new HostileMutator(Seed);
        using var client = new HttpClient { BaseAddress = fixture.Server.RestAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var raw = new RawGrpcClient(fixture.Server.GrpcAddress);

        var baseline = fixture.Server.ResidentBytes();
        var peak = baseline;
        var clock = Stopwatch.StartNew();
        var sent = 0;
        var answers = new Dictionary<string, int>();
        for (; sent < MaxMutants && clock.Elapsed < WallTime; sent++)
        {
            string? failure;
            if (mutator.Next(2) == 0)
            {
                var (path, json, headers) = rest[mutator.Next(rest.Count)];
                var (body, kind) = mutator.MutateJson(json);
                var (status, text) = await PostAsync(client, path, body, headers);
                Count(answers, $"HTTP {status}");
                failure = status >= 500 || (status >= 400 && !HasError(text))
                    ? $"HTTP {status} {HostileCorpusRunner.Shorten(text)}; {HostileMutator.Describe(Seed, sent, path, kind, body)}"
                    : null;
            }
            else
            {
                var (method, message) = grpc[mutator.Next(grpc.Count)];
                var (frame, kind) = MutateGrpc(mutator, message);
                var response = await raw.CallAsync(method, frame);
                var code = response.GrpcStatus is { } s ? (StatusCode)s : (StatusCode?)null;
                Count(answers, $"gRPC {code?.ToString() ?? "none"}");
                failure = code is null or StatusCode.Unknown or StatusCode.Internal || response.HttpStatus >= 500
                    ? $"gRPC {code?.ToString() ?? "no status"} (HTTP {response.HttpStatus}) {response.GrpcMessage}; {HostileMutator.Describe(Seed, sent, method, kind, frame)}"
                    : null;
            }

            Assert.True(failure is null, failure);
            if (sent % 50 == 0)
            {
                peak = Math.Max(peak, fixture.Server.ResidentBytes());
            }
        }

        peak = Math.Max(peak, fixture.Server.ResidentBytes());
        output.WriteLine($"seed {Seed}: {sent} mutants in {clock.Elapsed.TotalSeconds:F1} s; answers: {string.Join(", ", answers.OrderBy(a => a.Key).Select(a => $"{a.Key} × {a.Value}"))}");
        output.WriteLine($"VmRSS {baseline / (1024 * 1024)} MiB before, at most {peak / (1024 * 1024)} MiB during");
        Assert.True(sent >= 100, $"only {sent} mutants in {WallTime}");

        await fixture.AssertServesMnistAsync();
        await fixture.AssertServesMnistOverGrpcAsync();
        Assert.True(peak - baseline < MemoryBound,
            $"VmRSS grew by {(peak - baseline) / (1024 * 1024)} MiB (bound {MemoryBound / (1024 * 1024)} MiB) over {sent} mutants of seed {Seed}");
    }

    private static void Count(Dictionary<string, int> answers, string key) => answers[key] = answers.GetValueOrDefault(key) + 1;

    private static bool HasError(string text)
    {
        try
        {
            return JsonNode.Parse(text)?["error"]?.GetValue<string>() is { Length: > 0 };
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    private static async Task<(int Status, string Text)> PostAsync(HttpClient client, string path, byte[] body, (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Half byte-level mutations of the message, a third structured ones, the rest byte-level on the whole frame.</summary>
    private static (byte[] Frame, string Kind) MutateGrpc(HostileMutator mutator, IMessage message)
    {
        switch (mutator.Next(6))
        {
            case 0 or 1 or 2:
            {
                var (bytes, kind) = mutator.MutateBytes(message.ToByteArray());
                return (HostileGrpcCall.Frame(bytes), "message " + kind);
            }

            case 3 or 4:
            {
                var (mutant, kind) = message switch
                {
                    ModelInferRequest infer => MutateInfer(mutator, infer.Clone()),
                    PredictRequest predict => MutatePredict(mutator, predict.Clone()),
                    _ => throw new InvalidOperationException(message.GetType().Name),
                };
                return (HostileGrpcCall.Frame(mutant.ToByteArray()), kind);
            }

            default:
            {
                var (bytes, kind) = mutator.MutateBytes(HostileGrpcCall.Frame(message.ToByteArray()));
                return (bytes, "frame " + kind);
            }
        }
    }

    private static (IMessage, string) MutateInfer(HostileMutator mutator, ModelInferRequest request)
    {
        var input = request.Inputs[mutator.Next(request.Inputs.Count)];
        switch (mutator.Next(9))
        {
            case 0:
                if (input.Shape.Count > 0)
                {
                    input.Shape[mutator.Next(input.Shape.Count)] = s_dims[mutator.Next(s_dims.Length)];
                }

                return (request, "shape dimension");
            case 1:
                input.Datatype = s_datatypes[mutator.Next(s_datatypes.Length)];
                return (request, "datatype");
            case 2:
                if (request.RawInputContents.Count > 0)
                {
                    var at = mutator.Next(request.RawInputContents.Count);
                    var content = request.RawInputContents[at].ToByteArray();
                    request.RawInputContents[at] = ByteString.CopyFrom(content.AsSpan(0, mutator.Next(content.Length + 1)));
                }

                return (request, "raw contents cut");
            case 3:
                request.Inputs.Add(input.Clone());
                return (request, "input twice");
            case 4:
                request.Inputs.Remove(input);
                return (request, "input removed");
            case 5:
                request.RawInputContents.Add(ByteString.CopyFrom(new byte[mutator.Next(64)]));
                return (request, "extra raw contents");
            case 6:
                request.ModelVersion = new[] { "0", "-1", "abc", "99999999999999999999", "2", " 1" }[mutator.Next(6)];
                return (request, "model version");
            case 7:
                input.Contents = new InferTensorContents { Fp32Contents = { 1, 2, 3 }, Int64Contents = { 4 } };
                return (request, "typed contents added");
            default:
                request.Outputs.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = mutator.Next(2) == 0 ? "nope" : "probabilities" });
                return (request, "output added");
        }
    }

    private static (IMessage, string) MutatePredict(HostileMutator mutator, PredictRequest request)
    {
        var name = request.Inputs.Keys.ElementAt(mutator.Next(request.Inputs.Count));
        var tensor = request.Inputs[name];
        switch (mutator.Next(8))
        {
            case 0:
                tensor.Dtype = (DataType)mutator.Next(31);
                return (request, "dtype");
            case 1:
                if (tensor.TensorShape?.Dim.Count > 0)
                {
                    tensor.TensorShape.Dim[mutator.Next(tensor.TensorShape.Dim.Count)].Size = s_dims[mutator.Next(s_dims.Length)];
                }

                return (request, "shape dimension");
            case 2:
            {
                var content = tensor.TensorContent.ToByteArray();
                tensor.TensorContent = ByteString.CopyFrom(content.AsSpan(0, mutator.Next(content.Length + 1)));
                return (request, "tensor_content cut");
            }

            case 3:
                tensor.FloatVal.Add(1.5f);
                tensor.DoubleVal.Add(double.NaN);
                return (request, "typed values added");
            case 4:
                tensor.TensorShape = mutator.Next(2) == 0 ? null : new TensorShapeProto { UnknownRank = true };
                return (request, "shape dropped");
            case 5:
                request.Inputs.Remove(name);
                request.Inputs.Add(mutator.Next(2) == 0 ? "y" : new string('z', 300), tensor);
                return (request, "input renamed");
            case 6:
                request.ModelSpec.VersionLabel = new[] { "stable", "", "a b", new string('l', 500) }[mutator.Next(4)];
                request.ModelSpec.SignatureName = mutator.Next(2) == 0 ? "" : "classify";
                return (request, "model spec");
            default:
                request.OutputFilter.Add(mutator.Next(2) == 0 ? "nope" : request.OutputFilter.FirstOrDefault() ?? "probabilities");
                return (request, "output filter");
        }
    }

    private static List<(string Path, string Json, (string Name, string Value)[] Headers)> RestSeeds()
    {
        var row = string.Join(",", TestData.MnistRows(1, seed: 3)[0].Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)));
        const string Double3 = """{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP64","parameters":{"binary_data_size":24}}]}""";
        var binary = Double3 + Encoding.Latin1.GetString(MemoryMarshal.AsBytes<double>([1.5, -2.5, 3.25]));
        return
        [
            ("/v1/models/mnist:predict", $$"""{"instances": [[{{row}}]]}""", []),
            ("/v1/models/mnist:predict", $$$"""{"signature_name": "serving_default", "inputs": {"x": [[{{{row}}}]]}}""", []),
            ("/v1/models/multi:predict", """{"inputs": {"a": [[1, 2, 3], [4, 5, 6]], "b": [[0.5, 1e3, -2], [7, 8, 9]]}}""", []),
            ("/v1/models/multi:predict", """{"instances": [{"a": [1, 2, 3], "b": [4, 5, 6]}]}""", []),
            ("/v1/models/identity_string:predict", """{"instances": [["a", "b", {"b64": "Yw=="}]]}""", []),
            ("/v1/models/identity_uint8:predict", """{"instances": [[1, 2, 255]]}""", []),
            ("/v2/models/mnist/infer", $$"""{"id": "r1", "inputs": [{"name": "x", "shape": [1, 784], "datatype": "FP32", "data": [{{row}}]}]}""", []),
            ("/v2/models/multi/infer", """{"inputs": [{"name": "a", "shape": [2, 3], "datatype": "FP32", "data": [[1, 2, 3], [4, 5, 6]]}, {"name": "b", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}], "outputs": [{"name": "sum"}], "parameters": {"p": 1}}""", []),
            ("/v2/models/identity_string/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "BYTES", "data": ["a", "bc", "\u00e9"]}]}""", []),
            ("/v2/models/identity_double/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [[1.5, NaN, -3.25e10]]}]}""", []),
            ("/v2/models/identity_float16/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP16", "data": [1, 0.5, 65504]}]}""", []),
            ("/v2/models/identity_int32/infer", """{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "INT32", "data": [1, -2147483648, 2147483647]}]}""", []),
            ("/v2/models/identity_double/infer", binary, [("Inference-Header-Content-Length", Double3.Length.ToString(CultureInfo.InvariantCulture))]),
        ];
    }

    private static List<(string Method, IMessage Message)> GrpcSeeds()
    {
        var rows = TestData.MnistRows(1, seed: 4)[0];
        var mnist = new ModelInferRequest { ModelName = "mnist", Inputs = { new InferInput { Name = "x", Datatype = "FP32", Shape = { 1, 784 } } } };
        mnist.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(rows.AsSpan())));
        var doubles = new ModelInferRequest
        {
            ModelName = "identity_double",
            Inputs = { new InferInput { Name = "x", Datatype = "FP64", Shape = { 1, 3 }, Contents = new InferTensorContents { Fp64Contents = { 1.5, -2, 3 } } } },
        };
        var strings = new ModelInferRequest { ModelName = "identity_string", Inputs = { new InferInput { Name = "x", Datatype = "BYTES", Shape = { 1, 3 } } } };
        strings.RawInputContents.Add(ByteString.CopyFrom([1, 0, 0, 0, (byte)'a', 2, 0, 0, 0, (byte)'b', (byte)'c', 0, 0, 0, 0]));
        var multi = new ModelInferRequest
        {
            ModelName = "multi",
            Inputs =
            {
                new InferInput { Name = "a", Datatype = "FP32", Shape = { 1, 3 }, Contents = new InferTensorContents { Fp32Contents = { 1, 2, 3 } } },
                new InferInput { Name = "b", Datatype = "FP32", Shape = { 1, 3 }, Contents = new InferTensorContents { Fp32Contents = { 4, 5, 6 } } },
            },
            Outputs = { new ModelInferRequest.Types.InferRequestedOutputTensor { Name = "product" } },
        };

        var predict = new PredictRequest { ModelSpec = new ModelSpec { Name = "mnist" } };
        predict.Inputs.Add("x", TfTensors.Content(DataType.DtFloat, rows, 1, MlpWeights.InputSize));
        var predictDoubles = new PredictRequest { ModelSpec = new ModelSpec { Name = "identity_double", Version = 1 } };
        predictDoubles.Inputs.Add("x", new TensorProto { Dtype = DataType.DtDouble, TensorShape = TfTensors.Shape(1, 3), DoubleVal = { 1, 2, 3 } });
        var predictStrings = new PredictRequest { ModelSpec = new ModelSpec { Name = "identity_string" } };
        predictStrings.Inputs.Add("x", new TensorProto
        {
            Dtype = DataType.DtString,
            TensorShape = TfTensors.Shape(1, 3),
            StringVal = { ByteString.CopyFromUtf8("a"), ByteString.CopyFromUtf8("é"), ByteString.Empty },
        });
        var predictMulti = new PredictRequest { ModelSpec = new ModelSpec { Name = "multi" }, OutputFilter = { "sum" } };
        predictMulti.Inputs.Add("a", TfTensors.Floats([1, 2, 3], 1, 3));
        predictMulti.Inputs.Add("b", TfTensors.Floats([4, 5, 6], 1, 3));

        const string Infer = "/inference.GRPCInferenceService/ModelInfer";
        const string Predict = "/tensorflow.serving.PredictionService/Predict";
        return [(Infer, mnist), (Infer, doubles), (Infer, strings), (Infer, multi), (Predict, predict), (Predict, predictDoubles), (Predict, predictStrings), (Predict, predictMulti)];
    }
}
