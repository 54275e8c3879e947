using System.Globalization;
using System.Text;

namespace ServingStack.Bench.Reporting;

/// <summary>results.csv: one row per step, the columns of results.json flattened (errors as kind=count;...).</summary>
public static class ResultsCsv
{
    private static readonly string[] Header =
    [
        "mode", "protocol", "model", "version", "label", "target", "concurrency", "batch_size", "requests", "errors", "rows",
        "duration_s", "rps", "rows_per_s", "mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "errors_by_kind",
        "timestamp_utc", "cores", "os", "dotnet", "architecture",
    ];

    public static string Write(IEnumerable<ResultRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var text = new StringBuilder();
        text.AppendJoin(',', Header).Append('\n');
        foreach (var r in records)
        {
            string[] fields =
            [
                r.Mode, r.Protocol, r.Model, r.Version ?? string.Empty, r.Label, r.Target, Number(r.Concurrency), Number(r.BatchSize),
                Number(r.Requests), Number(r.Errors), Number(r.Rows), Number(r.DurationS), Number(r.Rps), Number(r.RowsPerS),
                Number(r.MeanMs), Number(r.P50Ms), Number(r.P90Ms), Number(r.P95Ms), Number(r.P99Ms), Number(r.MaxMs),
                string.Join(';', r.ErrorsByKind.Select(e => $"{e.Key}={Number(e.Value)}")),
                r.TimestampUtc.ToString("O", CultureInfo.InvariantCulture), Number(r.Machine.Cores), r.Machine.Os, r.Machine.Dotnet,
                r.Machine.Architecture,
            ];
            text.AppendJoin(',', fields.Select(Escape)).Append('\n');
        }

        return text.ToString();
    }

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
