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
            string endpoint;
            int bodyBytes;
            if (http is not null)
            {
                var body = options.RestFormat == RestFormat.V2 ? RequestEncoder.OpenInferenceJson(inputs) : RequestEncoder.TfServingRowsJson(inputs);
                var rest = new RestTarget(http, url, options.Model, options.Version, options.RestFormat, body, rows, options.Concurrency.Max());
                (target, endpoint, bodyBytes) = (rest, "POST " + rest.Endpoint, rest.BodyBytes);
            }
            else
            {
                var request = RequestEncoder.Grpc(options.Model, options.Version, inputs, options.Raw);
                var grpc = new GrpcTarget(channel!, request, rows, options.RequestTimeout);
                (target, endpoint, bodyBytes) = (grpc, $"gRPC ModelInfer at {url}", grpc.BodyBytes);
            }

            ConsoleOutput.Info($"{options.ProtocolName}: {endpoint} · model {signature.Name} (versions {string.Join(", ", signature.Versions)})");
            ConsoleOutput.Info(string.Create(CultureInfo.InvariantCulture,
                $"inputs: {string.Join("; ", inputs)} · {bodyBytes:N0} bytes per request · label '{label}'"));
            notes.ForEach(ConsoleOutput.Warning);

            if (await target.ProbeAsync(cancellationToken).ConfigureAwait(false) is { } problem)
            {
                ConsoleOutput.Error("The first request failed, so no load was run: " + problem);
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
