using System.Globalization;
using ServingStack.Bench.Load;
using Spectre.Console;

namespace ServingStack.Bench.Reporting;

/// <summary>
/// What the user sees: a live line while a step runs (a redrawn Spectre.Console display on a terminal, a plain line
/// per second when output is redirected), a summary per step, and the results table at the end.
/// </summary>
public static class ConsoleOutput
{
    private static readonly TimeSpan LiveRefresh = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan PlainRefresh = TimeSpan.FromSeconds(1);

    /// <summary>Whether the console redraws in place; false when redirected (tests, CI, pipes).</summary>
    public static bool Interactive => AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;

    /// <summary>Wide tables even when redirected, where the console width is unknown.</summary>
    public static void Configure()
    {
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200;
        }
    }

    public static void Info(string text) => AnsiConsole.MarkupLine(Markup.Escape(text));

    public static void Warning(string text) => AnsiConsole.MarkupLine("[yellow]" + Markup.Escape(text) + "[/]");

    public static void Error(string text)
    {
        // Errors go to stderr so scripts can tell them from results.
        Console.Error.WriteLine(text);
    }

    /// <summary>Shows <paramref name="snapshot"/> until <paramref name="work"/> ends, then returns its result.</summary>
    public static async Task<T> TrackAsync<T>(string title, Func<LoadSnapshot> snapshot, Task<T> work)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(work);
        var rate = new RateMeter();
        if (Interactive)
        {
            await AnsiConsole.Live(new Markup(Markup.Escape(title)))
                .AutoClear(true)
                .StartAsync(async context =>
                {
                    while (!work.IsCompleted)
                    {
                        await Task.WhenAny(work, Task.Delay(LiveRefresh)).ConfigureAwait(false);
                        context.UpdateTarget(new Markup(Describe(title, snapshot(), rate, markup: true)));
                        context.Refresh();
                    }
                }).ConfigureAwait(false);
        }
        else
        {
            while (!work.IsCompleted)
            {
                await Task.WhenAny(work, Task.Delay(PlainRefresh)).ConfigureAwait(false);
                if (!work.IsCompleted)
                {
                    Console.Out.WriteLine(Describe(title, snapshot(), rate, markup: false));
                }
            }
        }

        return await work.ConfigureAwait(false);
    }

    /// <summary>One line per finished step.</summary>
    public static void StepDone(ResultRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var errors = r.Errors == 0 ? "0 errors" : $"[red]{r.Errors} errors ({Markup.Escape(string.Join(", ", r.ErrorsByKind.Select(e => $"{e.Key}: {e.Value}")))})[/]";
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"  [bold]{Markup.Escape(StepName(r))}[/]: {r.Requests:N0} requests in {r.DurationS:0.00} s, {r.Rps:N1} req/s, {r.RowsPerS:N1} rows/s, " +
            $"p50 {r.P50Ms:0.###} ms, p99 {r.P99Ms:0.###} ms, {errors}"));
    }

    /// <summary>The results of this run as a table.</summary>
    public static void ResultsTable(IReadOnlyList<ResultRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        // Short headers and, on a narrow terminal, fewer percentiles and lighter borders; results.csv has every column.
        var narrow = AnsiConsole.Profile.Width < 130;
        var table = new Table().Border(narrow ? TableBorder.Simple : TableBorder.Rounded).Title("[bold]results[/] (latency in ms)");
        (string Header, Func<ResultRecord, string> Cell)[] columns =
        [
            ("conc", r => N(r.Concurrency)),
            ("batch", r => N(r.BatchSize)),
            ("requests", r => N(r.Requests)),
            ("errors", r => r.Errors == 0 ? "0" : $"[red]{N(r.Errors)}[/]"),
            ("req/s", r => F(r.Rps, "N0")),
            ("rows/s", r => F(r.RowsPerS, "N0")),
            ("p50", r => F(r.P50Ms, "0.###")),
            .. narrow ? Array.Empty<(string, Func<ResultRecord, string>)>() :
            [
                ("p90", r => F(r.P90Ms, "0.###")),
                ("p95", r => F(r.P95Ms, "0.###")),
            ],
            ("p99", r => F(r.P99Ms, "0.###")),
            ("max", r => F(r.MaxMs, "0.###")),
        ];
        table.AddColumn("label");
        foreach (var (header, _) in columns)
        {
            // Numbers never wrap; on a narrow terminal the label column wraps instead.
            table.AddColumn(new TableColumn(header) { Padding = narrow ? new Padding(1, 0, 0, 0) : new Padding(1, 0, 1, 0) }.RightAligned().NoWrap());
        }

        foreach (var r in records)
        {
            table.AddRow([Markup.Escape(r.Label), .. columns.Select(c => c.Cell(r))]);
        }

        AnsiConsole.Write(table);
    }

    public static string StepName(ResultRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        return r.Mode == ResultRecord.InprocMode
            ? string.Create(CultureInfo.InvariantCulture, $"batch {r.BatchSize}, concurrency {r.Concurrency}")
            : string.Create(CultureInfo.InvariantCulture, $"concurrency {r.Concurrency}");
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Describe(string title, LoadSnapshot s, RateMeter rate, bool markup)
    {
        var current = rate.Update(s.Requests + s.WarmupRequests);
        var phase = s.Phase switch
        {
            LoadPhase.WarmingUp => "warming up",
            LoadPhase.Measuring => "measuring",
            LoadPhase.Draining => "finishing",
            _ => "done",
        };
        var fraction = s.Planned > TimeSpan.Zero ? Math.Clamp(s.Elapsed / s.Planned, 0, 1) : 1;
        const int barWidth = 24;
        var filled = (int)Math.Round(fraction * barWidth);
        var bar = new string('#', filled) + new string('.', barWidth - filled);
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{title} [{bar}] {phase} {s.Elapsed.TotalSeconds:0.0}/{s.Planned.TotalSeconds:0.0} s · {s.Requests:N0} measured · {current:N0} req/s · {s.Errors:N0} errors");
        return markup ? Markup.Escape(line) : line;
    }

    /// <summary>Requests per second between two looks.</summary>
    private sealed class RateMeter
    {
        private long _lastCount;
        private long _lastTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        private double _rate;

        public double Update(long count)
        {
            var now = System.Diagnostics.Stopwatch.GetTimestamp();
            var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
            if (seconds >= 0.1)
            {
                _rate = (count - _lastCount) / seconds;
                _lastCount = count;
                _lastTimestamp = now;
            }

            return _rate;
        }
    }
}
