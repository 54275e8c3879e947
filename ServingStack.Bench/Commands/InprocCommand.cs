using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using ServingStack.Bench.Cli;
using ServingStack.Bench.InProc;
using ServingStack.Bench.Load;
using ServingStack.Bench.Options;
using ServingStack.Bench.Reporting;

namespace ServingStack.Bench.Commands;

/// <summary><c>inproc</c>: ONNX Runtime called directly, one step per batch size.</summary>
public static class InprocCommand
{
    public static async Task<int> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var parsed = ParsedArguments.Parse(InprocOptions.Command, args);
        if (parsed.HelpRequested)
        {
            HelpWriter.WriteCommand(Console.Out, InprocOptions.Command);
            return ExitCodes.Success;
        }

        var options = InprocOptions.Bind(parsed);
        List<string> errors = [.. parsed.Errors, .. InprocOptionsValidator.Validate(options)];
        if (errors.Count > 0)
        {
            HelpWriter.WriteErrors(Console.Error, InprocOptions.Command, errors);
            return ExitCodes.BadArguments;
        }

        var store = new ResultsStore(options.Load.OutputDirectory);
        var model = options.ResolvedModelName;
        var label = options.Load.Label ?? $"inproc {model}";
        try
        {
            var existing = store.Load();
            using var sessionOptions = CreateSessionOptions(options);
            using var session = CreateSession(options.ModelFile, sessionOptions);
            ConsoleOutput.Info(string.Create(CultureInfo.InvariantCulture,
                $"{options.ProtocolName}: {options.ModelFile} · intra-op threads {(EffectiveThreads(options) == 0 ? "ORT default" : EffectiveThreads(options).ToString(CultureInfo.InvariantCulture))} · concurrency {options.Concurrency} · label '{label}'"));
            ConsoleOutput.Info("inputs: " + string.Join("; ", session.InputMetadata.Select(i => $"{i.Key} {i.Value.ElementDataType} [{string.Join(',', i.Value.Dimensions)}]")));

            var records = new List<ResultRecord>();
            foreach (var batch in options.BatchSizes)
            {
                using var target = new InprocTarget(session, batch, options.Concurrency, options.Load.Seed);
                try
                {
                    target.Run(0);
                }
                catch (OnnxRuntimeException ex)
                {
                    ConsoleOutput.Error($"Batch size {batch} failed in ONNX Runtime, so it was not measured: {ex.Message}");
                    return ExitCodes.Failure;
                }

                var runner = new ClosedLoopRunner(target, new LoadStep(options.Concurrency, options.Load.Warmup, options.Load.Duration, options.Load.MaxRequests));
                var measurement = await ConsoleOutput.TrackAsync($"batch {batch}", runner.Snapshot, runner.RunAsync(cancellationToken)).ConfigureAwait(false);
                var record = ResultRecord.From(measurement, ResultRecord.InprocMode, options.ProtocolName, model, null, label, Path.GetFullPath(options.ModelFile), batch);
                records.Add(record);
                ConsoleOutput.StepDone(record);
                if (measurement.Interrupted)
                {
                    break;
                }
            }

            ResultsPublisher.Publish(store, existing, records);
            return RunCommand.Outcome(records, cancellationToken);
        }
        catch (Exception ex) when (ex is BenchException or IOException)
        {
            ConsoleOutput.Error(ex.Message);
            return ExitCodes.Failure;
        }
    }

    // The server's rule (ExecutionSettings.EffectiveIntraOpThreads): the floor must run with the threads the server gets.
    private static int EffectiveThreads(InprocOptions options) => options.Threads > 0 ? options.Threads : ServingStack.Inference.Runtime.ProcessorBudget.IntraOpThreads;

    private static SessionOptions CreateSessionOptions(InprocOptions options)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = EffectiveThreads(options),  // 0: ONNX Runtime's default
        };
        if (options.Provider == ExecutionProvider.Cuda)
        {
            try
            {
                sessionOptions.AppendExecutionProvider_CUDA(options.DeviceId);
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                sessionOptions.Dispose();
                throw new BenchException($"The CUDA execution provider could not be loaded (device {options.DeviceId}): {ex.Message}", ex);
            }
        }

        return sessionOptions;
    }

    private static InferenceSession CreateSession(string path, SessionOptions options)
    {
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new BenchException($"ONNX Runtime could not load '{path}': {ex.Message}", ex);
        }
    }
}
