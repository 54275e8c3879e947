using System.Text.Json.Serialization;
using ServingStack.Bench.Load;

namespace ServingStack.Bench.Reporting;

/// <summary>One step's result, as results.json and results.csv hold it (snake_case names, latencies in ms).</summary>
public sealed record ResultRecord
{
    public const string ServerMode = "server";
    public const string InprocMode = "inproc";

    /// <summary>"server" (run) or "inproc".</summary>
    public string Mode { get; init; } = ServerMode;

    /// <summary>rest-v2, rest-tf, grpc-typed, grpc-raw, onnxruntime-cpu or onnxruntime-cuda.</summary>
    public string Protocol { get; init; } = string.Empty;

    public string Model { get; init; } = string.Empty;

    public string? Version { get; init; }

    /// <summary>The series this step belongs to.</summary>
    public string Label { get; init; } = string.Empty;

    /// <summary>The server (run) or the model file (inproc).</summary>
    public string Target { get; init; } = string.Empty;

    public int Concurrency { get; init; }

    /// <summary>Rows (dim 0) per request: --rows-per-request for run, the batch size for inproc.</summary>
    public int BatchSize { get; init; }

    public long Requests { get; init; }

    public long Errors { get; init; }

    public long Rows { get; init; }

    public double DurationS { get; init; }

    /// <summary>Successful requests per second.</summary>
    public double Rps { get; init; }

    public double RowsPerS { get; init; }

    public double MeanMs { get; init; }

    public double P50Ms { get; init; }

    public double P90Ms { get; init; }

    public double P95Ms { get; init; }

    public double P99Ms { get; init; }

    public double MaxMs { get; init; }

    public IReadOnlyDictionary<string, long> ErrorsByKind { get; init; } = new Dictionary<string, long>();

    public DateTimeOffset TimestampUtc { get; init; }

    public MachineInfo Machine { get; init; } = MachineInfo.Current;

    /// <summary>The chart's x: concurrency for a server run, batch size in process.</summary>
    [JsonIgnore]
    public int X => Mode == InprocMode ? BatchSize : Concurrency;

    public static ResultRecord From(StepMeasurement step, string mode, string protocol, string model, string? version, string label, string target, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(step);
        static double Ms(long nanoseconds) => Math.Round(nanoseconds / 1e6, 4);
        return new ResultRecord
        {
            Mode = mode,
            Protocol = protocol,
            Model = model,
            Version = version,
            Label = label,
            Target = target,
            Concurrency = step.Step.Concurrency,
            BatchSize = batchSize,
            Requests = step.Requests,
            Errors = step.Errors,
            Rows = step.Rows,
            DurationS = Math.Round(step.Elapsed.TotalSeconds, 4),
            Rps = Math.Round(step.RequestsPerSecond, 2),
            RowsPerS = Math.Round(step.RowsPerSecond, 2),
            MeanMs = Math.Round(step.Latency.Mean / 1e6, 4),
            P50Ms = Ms(step.Latency.ValueAtPercentile(50)),
            P90Ms = Ms(step.Latency.ValueAtPercentile(90)),
            P95Ms = Ms(step.Latency.ValueAtPercentile(95)),
            P99Ms = Ms(step.Latency.ValueAtPercentile(99)),
            MaxMs = Ms(step.Latency.Count == 0 ? 0 : step.Latency.Max),
            ErrorsByKind = new SortedDictionary<string, long>(step.ErrorsByKind.ToDictionary(), StringComparer.Ordinal),
            TimestampUtc = DateTimeOffset.UtcNow,
        };
    }
}
