using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Net.Client;
using ServingStack.Bench.Cli;
using ServingStack.Bench.Inputs;
using ServingStack.Bench.Reporting;
using ServingStack.Bench.Safety;
using ServingStack.Inference.Protocols.OpenInference.Grpc;

namespace ServingStack.Bench.Baselines;

/// <summary>
/// <c>minimal-client</c>: the plainest closed loop that can measure a gRPC server, to check the load tool against. One
/// default GrpcChannel, the generated client, one call at a time, a Stopwatch timestamp around each call, and a sorted
/// array for the median. None of the load tool's code (runner, target, histogram, marshaller) is used.
/// </summary>
public static class MinimalClientCommand
{
    public static CommandSpec Command { get; } = new(
        "minimal-client",
        "Reference: a plain closed loop of Open Inference gRPC ModelInfer calls (raw zeros of the model's input shape), one at a time; prints p50.",
        [
            new("url", "URL", "Server address; must be loopback", "http://127.0.0.1:8500"),
            new("model", "NAME", "Model to infer with (required)"),
            new("duration", "TIME", "How long calls are measured", "5s"),
            new("warmup", "TIME", "Calls before the measurement, not recorded", "2s"),
        ],
        ["minimal-client --url http://127.0.0.1:18600 --model mnist --duration 5s"]);

    public static async Task<int> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var parsed = ParsedArguments.Parse(Command, args);
        if (parsed.HelpRequested)
        {
            HelpWriter.WriteCommand(Console.Out, Command);
            return ExitCodes.Success;
        }

        var url = parsed.Get("url") ?? "http://127.0.0.1:8500";
        var model = parsed.Require("model") ?? string.Empty;
        var duration = parsed.Duration("duration", TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        var warmup = parsed.Duration("warmup", TimeSpan.FromSeconds(2), TimeSpan.Zero, TimeSpan.FromHours(1));
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
        {
            parsed.Errors.Add($"Option '--url' must be an absolute http:// address, not '{url}'.");
        }
        else if (LoopbackGuard.Check(uri) is { } refused)
        {
            parsed.Errors.Add(refused);
        }

        if (parsed.Errors.Count > 0)
        {
            HelpWriter.WriteErrors(Console.Error, Command, parsed.Errors);
            return ExitCodes.BadArguments;
        }

        using var channel = GrpcChannel.ForAddress(uri!);
        var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
        try
        {
            var request = await ZerosRequestAsync(client, model, cancellationToken).ConfigureAwait(false);
            var (latencies, cpu) = await LoopAsync(client, request, warmup, duration, cancellationToken).ConfigureAwait(false);
            var cpuPerCall = cpu.TotalMicroseconds / latencies.Count;
            latencies.Sort();
            var p50 = Stopwatch.GetElapsedTime(0, latencies[(latencies.Count - 1) / 2]).TotalMilliseconds;
            var p99 = Stopwatch.GetElapsedTime(0, latencies[(int)Math.Ceiling(latencies.Count * 0.99) - 1]).TotalMilliseconds;
            // One line that scripts parse (p50_ms=...), then the same for people.
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"minimal-client calls={latencies.Count} p50_ms={p50:0.####} p99_ms={p99:0.####} cpu_us_per_call={cpuPerCall:0.0}"));
            return ExitCodes.Success;
        }
        catch (Grpc.Core.RpcException ex) when (!cancellationToken.IsCancellationRequested)
        {
            ConsoleOutput.Error($"minimal-client: ModelInfer at {url} failed: {ex.StatusCode} {ex.Status.Detail}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }
    }

    private static async Task<(List<long> Latencies, TimeSpan Cpu)> LoopAsync(
        GRPCInferenceService.GRPCInferenceServiceClient client, ModelInferRequest request, TimeSpan warmup, TimeSpan duration, CancellationToken cancellationToken)
    {
        var latencies = new List<long>(1 << 16);
        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < warmup)
        {
            await client.ModelInferAsync(request, cancellationToken: cancellationToken);
        }

        var cpuBefore = Environment.CpuUsage.TotalTime;
        var measureStart = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(measureStart) < duration)
        {
            var begin = Stopwatch.GetTimestamp();
            await client.ModelInferAsync(request, cancellationToken: cancellationToken);
            latencies.Add(Stopwatch.GetTimestamp() - begin);
        }

        return (latencies, Environment.CpuUsage.TotalTime - cpuBefore);
    }

    /// <summary>Raw zeros for every input at one row (-1 dimensions are 1); the server's metadata gives the shapes.</summary>
    private static async Task<ModelInferRequest> ZerosRequestAsync(GRPCInferenceService.GRPCInferenceServiceClient client, string model, CancellationToken cancellationToken)
    {
        var metadata = await client.ModelMetadataAsync(new ModelMetadataRequest { Name = model }, cancellationToken: cancellationToken);
        var request = new ModelInferRequest { ModelName = model };
        foreach (var input in metadata.Inputs)
        {
            var tensor = new ModelInferRequest.Types.InferInputTensor { Name = input.Name, Datatype = input.Datatype };
            long elements = 1;
            foreach (var dim in input.Shape)
            {
                tensor.Shape.Add(dim < 0 ? 1 : dim);
                elements *= dim < 0 ? 1 : dim;
            }

            request.Inputs.Add(tensor);
            request.RawInputContents.Add(ByteString.CopyFrom(new byte[elements * Datatypes.SizeOf(input.Datatype)]));
        }

        return request;
    }
}
