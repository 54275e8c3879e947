using System.Globalization;
using System.Net.Http;
using Grpc.Net.Client;
using ServingStack.Bench.Cli;
using ServingStack.Bench.Inputs;
using ServingStack.Bench.Load;
using ServingStack.Bench.Options;
using ServingStack.Bench.Remote;
using ServingStack.Bench.Reporting;

namespace ServingStack.Bench.Commands;

/// <summary><c>run</c>: closed-loop load against a server, one step per concurrency.</summary>
public static class RunCommand
{
    public static async Task<int> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var parsed = ParsedArguments.Parse(RunOptions.Command, args);
        if (parsed.HelpRequested)
        {
            HelpWriter.WriteCommand(Console.Out, RunOptions.Command);
            return ExitCodes.Success;
        }

        var options = RunOptions.Bind(parsed);
        List<string> errors = [.. parsed.Errors, .. RunOptionsValidator.Validate(options)];
        if (errors.Count > 0)
        {
            HelpWriter.WriteErrors(Console.Error, RunOptions.Command, errors);
            return ExitCodes.BadArguments;
        }

        var store = new ResultsStore(options.Load.OutputDirectory);
        var existing = store.Load();
        var url = options.Url!;
        var label = options.Load.Label ?? $"{options.ProtocolName} {options.Model}";

        HttpClient? http = null;
        GrpcChannel? channel = null;
        try
        {
            ModelSignature signature;
            if (options.Protocol == BenchProtocol.Rest)
            {
                http = LoopbackClients.CreateHttpClient(options.Concurrency.Max(), options.RequestTimeout);
                signature = await MetadataClient.FetchRestAsync(http, url, options.Model, options.Version, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                channel = LoopbackClients.CreateGrpcChannel(url);
                signature = await MetadataClient.FetchGrpcAsync(channel, options.Model, options.Version, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
            }

            var notes = new List<string>();
            var inputs = string.Equals(options.Input, RunOptions.RandomInput, StringComparison.OrdinalIgnoreCase)
                ? InputFactory.Random(signature, options.RowsPerRequest, options.Load.Seed, notes)
                : InputFactory.FromJsonFile(options.Input);
            var rows = (int)inputs[0].Rows;

            IProbedTarget target;
            IProbedTarget? reference = null;
            string endpoint;
            int bodyBytes;
            if (http is not null)
            {
                var headerLength = 0;
                var body = options.RestFormat switch
                {
                    RestFormat.V2 => RequestEncoder.OpenInferenceJson(inputs),
                    RestFormat.Binary => RequestEncoder.OpenInferenceBinary(inputs, [.. signature.Outputs.Select(o => o.Name)], out headerLength),
                    _ => RequestEncoder.TfServingRowsJson(inputs),
                };
                var rest = new RestTarget(http, url, options.Model, options.Version, options.RestFormat, body, rows, options.Concurrency.Max(),
                    options.RestFormat == RestFormat.Binary ? headerLength : null);
                (target, endpoint, bodyBytes) = (rest, "POST " + rest.Endpoint, rest.BodyBytes);
                if (options.RestFormat == RestFormat.Binary)
                {
                    reference = new RestTarget(http, url, options.Model, options.Version, RestFormat.V2, RequestEncoder.OpenInferenceJson(inputs), rows, 1);
                }
            }
            else if (options.Protocol == BenchProtocol.Grpc)
            {
                var request = RequestEncoder.Grpc(options.Model, options.Version, inputs, options.Raw);
                var grpc = new GrpcTarget(channel!, request, rows, options.RequestTimeout);
                (target, endpoint, bodyBytes) = (grpc, $"gRPC ModelInfer at {url}", grpc.BodyBytes);
            }
            else
            {
                var request = RequestEncoder.TfServingPredict(options.Model, options.Version, inputs, options.Raw);
                var tf = new TfServingGrpcTarget(channel!, request, rows, options.RequestTimeout);
                (target, endpoint, bodyBytes) = (tf, $"TF Serving gRPC Predict at {url}", tf.BodyBytes);
                reference = new GrpcTarget(channel!, RequestEncoder.Grpc(options.Model, options.Version, inputs, raw: true), rows, options.RequestTimeout);
            }

            ConsoleOutput.Info($"{options.ProtocolName}: {endpoint} · model {signature.Name} (versions {string.Join(", ", signature.Versions)})");
            ConsoleOutput.Info(string.Create(CultureInfo.InvariantCulture,
                $"inputs: {string.Join("; ", inputs)} · {bodyBytes:N0} bytes per request · label '{label}'"));
            notes.ForEach(ConsoleOutput.Warning);

            var probe = await target.ProbeAsync(cancellationToken).ConfigureAwait(false);
            if (probe.Problem is { } problem)
            {
                ConsoleOutput.Error("The first request failed, so no load was run: " + problem);
                return ExitCodes.Failure;
            }

            if (reference is not null && await CheckAgainstAsync(reference, probe, cancellationToken).ConfigureAwait(false) is { } mismatch)
            {
                ConsoleOutput.Error($"The first request's outputs are wrong, so no load was run: {mismatch}");
                return ExitCodes.Failure;
            }

            var records = new List<ResultRecord>();
            foreach (var concurrency in options.Concurrency)
            {
                var runner = new ClosedLoopRunner(target, new LoadStep(concurrency, options.Load.Warmup, options.Load.Duration, options.Load.MaxRequests)
                {
                    RequestTimeout = options.RequestTimeout,
                });
                var measurement = await ConsoleOutput.TrackAsync($"concurrency {concurrency}", runner.Snapshot, runner.RunAsync(cancellationToken)).ConfigureAwait(false);
                var record = ResultRecord.From(measurement, ResultRecord.ServerMode, options.ProtocolName, options.Model, options.Version, label, url.ToString(), rows);
                records.Add(record);
                ConsoleOutput.StepDone(record);
                ConsoleOutput.Info(string.Create(CultureInfo.InvariantCulture,
                    $"    load tool CPU {measurement.ClientCpuPerRequest.TotalMicroseconds:0.0} µs per request"));
                if (measurement.Interrupted)
                {
                    break;
                }
            }

            ResultsPublisher.Publish(store, existing, records);
            return Outcome(records, cancellationToken);
        }
        catch (Exception ex) when (ex is BenchException or InvalidDataException or InvalidOperationException or IOException)
        {
            ConsoleOutput.Error(ex.Message);
            return ExitCodes.Failure;
        }
        finally
        {
            http?.Dispose();
            channel?.Dispose();
        }
    }

    /// <summary>
    /// Compares the probe's outputs with the same inputs sent through <paramref name="reference"/> (Open Inference JSON
    /// for binary tensors, Open Inference gRPC raw contents for TF Serving's Predict): null when every element agrees.
    /// </summary>
    private static async Task<string?> CheckAgainstAsync(IProbedTarget reference, ProbeResult probe, CancellationToken cancellationToken)
    {
        var expected = await reference.ProbeAsync(cancellationToken).ConfigureAwait(false);
        if (expected.Problem is { } problem)
        {
            return "the reference request failed: " + problem;
        }

        if (expected.Outputs is null || probe.Outputs is null)
        {
            return "outputs could not be decoded";
        }

        var difference = OutputDecoder.Compare(expected.Outputs, probe.Outputs);
        if (difference is null)
        {
            ConsoleOutput.Info($"outputs checked: {probe.Outputs.Count} output(s), every element equal to the {(reference is GrpcTarget ? "Open Inference gRPC" : "Open Inference JSON")} answer");
            return null;
        }

        return $"{difference} (reference: the same inputs over {(reference is GrpcTarget ? "Open Inference gRPC" : "Open Inference JSON")})";
    }

    /// <summary>Success unless interrupted, or a step had no successful request at all.</summary>
    public static int Outcome(IReadOnlyList<ResultRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Interrupted;
        }

        var failed = records.Where(r => r.Requests == r.Errors).ToArray();
        foreach (var r in failed)
        {
            ConsoleOutput.Error($"{ConsoleOutput.StepName(r)}: no request succeeded ({r.Errors} errors: {string.Join(", ", r.ErrorsByKind.Select(e => $"{e.Key}: {e.Value}"))}).");
        }

        return failed.Length == 0 ? ExitCodes.Success : ExitCodes.Failure;
    }
}
