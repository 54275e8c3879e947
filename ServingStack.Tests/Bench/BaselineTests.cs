using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Net.Client;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Bench;

/// <summary>The bench tool's floors (serve-echo, serve-ort) and its reference client (minimal-client), run as processes.</summary>
public sealed partial class BaselineTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Serve_ort_answers_model_infer_with_the_outputs_of_the_mlp_computed_independently()
    {
        var weights = MlpWeights.Create(MlpWeights.DefaultSeed);
        var modelFile = _repo.AddMlp("mnist", 1, MlpWeights.DefaultSeed);
        await using var baseline = await BaselineProcess.StartAsync("serve-ort", modelFile);
        using var channel = GrpcChannel.ForAddress(baseline.Address);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);

        var row = new float[MlpWeights.InputSize];
        for (var i = 0; i < row.Length; i++)
        {
            row[i] = (i % 17) / 17f;
        }

        var request = new ModelInferRequest { ModelName = "mnist" };
        request.Inputs.Add(new ModelInferRequest.Types.InferInputTensor { Name = ModelFactory.MlpInputName, Datatype = "FP32", Shape = { 1, MlpWeights.InputSize } });
        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(row.AsSpan())));
        var response = await client.ModelInferAsync(request);

        var output = Assert.Single(response.Outputs);
        Assert.Equal(ModelFactory.MlpOutputName, output.Name);
        Assert.Equal("FP32", output.Datatype);
        Assert.Equal([1L, MlpWeights.OutputSize], output.Shape);
        var actual = MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray();
        var expected = weights.Evaluate(row);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"probability {i}: {actual[i]}, expected {expected[i]}");
        }
    }

    [Fact]
    public async Task Serve_echo_answers_zeros_shaped_like_the_model_outputs_and_minimal_client_reports_its_p50()
    {
        var modelFile = _repo.AddMlp("mnist", 1, MlpWeights.DefaultSeed);
        await using var baseline = await BaselineProcess.StartAsync("serve-echo", modelFile);
        using (var channel = GrpcChannel.ForAddress(baseline.Address))
        {
            var metadata = await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelMetadataAsync(new ModelMetadataRequest { Name = "mnist" });
            Assert.Equal(ModelFactory.MlpInputName, Assert.Single(metadata.Inputs).Name);
            Assert.Equal([-1L, MlpWeights.InputSize], metadata.Inputs[0].Shape);
            var response = await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelInferAsync(new ModelInferRequest { ModelName = "mnist" });
            Assert.Equal([1L, MlpWeights.OutputSize], Assert.Single(response.Outputs).Shape);
            Assert.Equal(new byte[MlpWeights.OutputSize * sizeof(float)], response.RawOutputContents[0].ToByteArray());
        }

        var result = await BenchProcess.RunAsync("minimal-client", "--url", baseline.Address.ToString(), "--model", "mnist", "--duration", "500ms", "--warmup", "0s");

        Assert.True(result.ExitCode == 0, result.ToString());
        var line = SummaryLine().Match(result.StdOut);
        Assert.True(line.Success, result.ToString());
        Assert.True(long.Parse(line.Groups["calls"].Value, CultureInfo.InvariantCulture) > 0, result.ToString());
        var p50 = double.Parse(line.Groups["p50"].Value, CultureInfo.InvariantCulture);
        var p99 = double.Parse(line.Groups["p99"].Value, CultureInfo.InvariantCulture);
        Assert.True(p50 > 0 && p99 >= p50, result.ToString());
    }

    [Fact]
    public async Task Minimal_client_refuses_an_address_that_is_not_loopback()
    {
        var result = await BenchProcess.RunAsync("minimal-client", "--url", "http://192.0.2.1:8500", "--model", "mnist");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("192.0.2.1", result.StdErr);
    }

    [GeneratedRegex(@"minimal-client calls=(?<calls>\d+) p50_ms=(?<p50>[0-9.]+) p99_ms=(?<p99>[0-9.]+)")]
    private static partial Regex SummaryLine();
}
