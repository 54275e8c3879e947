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
        var parsed = ParsedArguments.Parse(Command, args);
        if (parsed.HelpRequested)
        {
            HelpWriter.WriteCommand(Console.Out, Command);
            return ExitCodes.Success;
        }

        var modelFile = parsed.Require("model-file");
        var name = parsed.Get("model-name") ?? "mnist";
        var port = parsed.Int("port", 18601, 1, 65535);
        if (modelFile is not null && !File.Exists(modelFile))
        {
            parsed.Errors.Add($"Option '--model-file': '{modelFile}' does not exist.");
        }

        if (parsed.Errors.Count > 0)
        {
            HelpWriter.WriteErrors(Console.Error, Command, parsed.Errors);
            return ExitCodes.BadArguments;
        }

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
