using Microsoft.ML.OnnxRuntime;
using ServingStack.Bench.Cli;
using ServingStack.Bench.Reporting;

namespace ServingStack.Bench.Baselines;

/// <summary><c>serve-echo</c>: the gRPC transport floor (<see cref="EchoInferenceService"/>) on a loopback port.</summary>
public static class ServeEchoCommand
{
    public static CommandSpec Command { get; } = new(
        "serve-echo",
        "Baseline: Open Inference gRPC ModelInfer answering a fixed response without running a model (the transport floor).",
        [
            new("model-file", "PATH", "The .onnx file whose input/output shapes ModelMetadata and the response take (it is never run; required)"),
            new("model-name", "NAME", "Model name the baseline answers to", "mnist"),
            new("port", "N", "Loopback port (h2c)", "18600"),
        ],
        ["serve-echo --model-file bench-models/mnist/1/model.onnx --port 18600"]);

    public static async Task<int> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        if (BaselineArguments.Parse(Command, args, 18600, out var exitCode) is not { } arguments)
        {
            return exitCode;
        }

        var (modelFile, name, port) = (arguments.ModelFile, arguments.ModelName, arguments.Port);

        Inference.Protocols.OpenInference.Grpc.ModelMetadataResponse metadata;
        using (var session = new InferenceSession(modelFile))
        {
            metadata = OnnxMetadata.Describe(name, session);
        }

        try
        {
            await BaselineHost.RunAsync(new EchoInferenceService(metadata), port, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            ConsoleOutput.Error($"serve-echo could not listen on 127.0.0.1:{port}: {ex.Message}");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }
}
