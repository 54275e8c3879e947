using Microsoft.ML.OnnxRuntime;
using ServingStack.Bench.Cli;
using ServingStack.Bench.Reporting;

namespace ServingStack.Bench.Baselines;

/// <summary><c>serve-ort</c>: the hand-written server floor (<see cref="OrtInferenceService"/>) on a loopback port.</summary>
public static class ServeOrtCommand
{
    public static CommandSpec Command { get; } = new(
        "serve-ort",
        "Baseline: a minimal hand-written Open Inference gRPC server, one ONNX Runtime Run per ModelInfer (raw contents), nothing else.",
        [
            new("model-file", "PATH", "The .onnx file to serve (required)"),
            new("model-name", "NAME", "Model name the baseline answers to", "mnist"),
            new("port", "N", "Loopback port (h2c)", "18601"),
        ],
        ["serve-ort --model-file bench-models/mnist/1/model.onnx --port 18601"]);

    public static async Task<int> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        if (BaselineArguments.Parse(Command, args, 18601, out var exitCode) is not { } arguments)
        {
            return exitCode;
        }

        var (modelFile, name, port) = (arguments.ModelFile, arguments.ModelName, arguments.Port);

        // ONNX Runtime's defaults, except what ServingStack sets by default too: idle intra-op threads do not spin (a
        // spinning floor on a small box would be slow for a reason that is not the server's work), and the intra-op
        // count is capped to a container's CPU limit.
        using var sessionOptions = new SessionOptions();
        if (ServingStack.Inference.Runtime.ProcessorBudget.IntraOpThreads > 0)
        {
            sessionOptions.IntraOpNumThreads = ServingStack.Inference.Runtime.ProcessorBudget.IntraOpThreads;
        }

        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = new InferenceSession(modelFile, sessionOptions);
        using var service = new OrtInferenceService(session, OnnxMetadata.Describe(name, session));
        try
        {
            await BaselineHost.RunAsync(service, port, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            ConsoleOutput.Error($"serve-ort could not listen on 127.0.0.1:{port}: {ex.Message}");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }
}
