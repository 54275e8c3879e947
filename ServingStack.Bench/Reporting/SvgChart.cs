using System.Globalization;
using System.Xml.Linq;

namespace ServingStack.Bench.Reporting;

/// <summary>
/// chart.svg: two panels, throughput (rows/s) and p99 latency (ms), against concurrency (server runs) or batch size
/// (inproc), one line per series (--label). Built as XML, so it is always well formed; no script, no external assets.
/// </summary>
public static class SvgChart
{
    private const double Width = 1100;
    private const double PanelWidth = 440;
    private const double PlotTop = 70;
    private const double PlotBottom = 390;

    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static readonly string[] Palette =
    [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    ];

    public static string Render(IReadOnlyList<ResultRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var series = records
            .GroupBy(r => r.Label, StringComparer.Ordinal)
            .Select(g => (Label: g.Key, Points: g.GroupBy(r => r.X).Select(x => x.Last()).OrderBy(r => r.X).ToArray()))
            .ToArray();
        var xs = records.Select(r => r.X).Distinct().Order().ToArray();
        var modes = records.Select(r => r.Mode).Distinct(StringComparer.Ordinal).ToArray();
        var xTitle = modes.Length switch
        {
            0 => "concurrency",
            1 when modes[0] == ResultRecord.InprocMode => "batch size",
            1 => "concurrency",
            _ => "concurrency (server) · batch size (inproc)",
        };

        var legendRows = (series.Length + 2) / 3;
        var height = PlotBottom + 80 + (legendRows * 22);
        var root = new XElement(Svg + "svg",
            new XAttribute("width", Number(Width)),
            new XAttribute("height", Number(height)),
            new XAttribute("viewBox", $"0 0 {Number(Width)} {Number(height)}"),
            new XAttribute("font-family", "sans-serif"),
            new XAttribute("font-size", "12"),
            new XElement(Svg + "rect", new XAttribute("width", "100%"), new XAttribute("height", "100%"), new XAttribute("fill", "white")),
            Text(Width / 2, 28, "ServingStack.Bench: throughput and p99 latency", "middle", 16, bold: true));

        if (records.Count == 0)
        {
            root.Add(Text(Width / 2, (PlotTop + PlotBottom) / 2, "no results yet", "middle", 14));
        }
        else
        {
            root.Add(Panel(70, "Throughput (rows/s)", xTitle, xs, series, r => r.RowsPerS));
            root.Add(Panel(70 + PanelWidth + 110, "p99 latency (ms)", xTitle, xs, series, r => r.P99Ms));
            root.Add(Legend(series.Select(s => s.Label).ToArray(), PlotBottom + 70));
        }

        return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n" + root + "\n";
    }

    private static XElement Panel(double left, string title, string xTitle, int[] xs,
        (string Label, ResultRecord[] Points)[] series, Func<ResultRecord, double> value)
    {
        var right = left + PanelWidth;
        var scale = YScale.For(series.SelectMany(s => s.Points).Select(value).ToArray());
        var group = new XElement(Svg + "g",
            Text((left + right) / 2, PlotTop - 14, scale.Logarithmic ? title + ", log scale" : title, "middle", 13, bold: true),
            Line(left, PlotBottom, right, PlotBottom, "#333"),
            Line(left, PlotTop, left, PlotBottom, "#333"),
            Text((left + right) / 2, PlotBottom + 40, xTitle, "middle", 12));

        foreach (var tick in scale.Ticks)
        {
            var y = scale.Y(tick);
            if (y < PlotBottom - 0.5)
            {
                group.Add(Line(left, y, right, y, "#e5e5e5"));
            }

            group.Add(Text(left - 6, y + 4, FormatTick(tick), "end", 11));
        }

        for (var i = 0; i < xs.Length; i++)
        {
            var x = X(i, xs.Length, left, right);
            group.Add(Line(x, PlotBottom, x, PlotBottom + 5, "#333"));
            group.Add(Text(x, PlotBottom + 18, xs[i].ToString(CultureInfo.InvariantCulture), "middle", 11));
        }

        for (var s = 0; s < series.Length; s++)
        {
            var color = Palette[s % Palette.Length];
            var points = series[s].Points
                .Select(r => (Record: r, X: X(Array.IndexOf(xs, r.X), xs.Length, left, right), Y: scale.Y(value(r))))
                .ToArray();
            if (points.Length > 1)
            {
                group.Add(new XElement(Svg + "polyline",
                    new XAttribute("fill", "none"),
                    new XAttribute("stroke", color),
                    new XAttribute("stroke-width", "2"),
                    new XAttribute("points", string.Join(' ', points.Select(p => $"{Number(p.X)},{Number(p.Y)}")))));
            }

            foreach (var p in points)
            {
                group.Add(new XElement(Svg + "circle",
                    new XAttribute("cx", Number(p.X)),
                    new XAttribute("cy", Number(p.Y)),
                    new XAttribute("r", "3.5"),
                    new XAttribute("fill", color),
                    new XElement(Svg + "title", string.Create(CultureInfo.InvariantCulture,
                        $"{series[s].Label}: x={p.Record.X}, {value(p.Record):0.###} ({p.Record.Protocol}, {p.Record.Model})"))));
            }
        }

        return group;
    }

    private static XElement Legend(string[] labels, double top)
    {
        var group = new XElement(Svg + "g");
        for (var i = 0; i < labels.Length; i++)
        {
            var x = 70 + (i % 3 * 340);
            var y = top + (i / 3 * 22);
            var color = Palette[i % Palette.Length];
            group.Add(new XElement(Svg + "rect",
                new XAttribute("x", Number(x)), new XAttribute("y", Number(y - 10)),
                new XAttribute("width", "14"), new XAttribute("height", "14"), new XAttribute("fill", color)));
            group.Add(Text(x + 20, y + 2, labels[i], "start", 12));
        }

        return group;
    }

    private static double X(int index, int count, double left, double right) =>
        count == 1 ? (left + right) / 2 : left + 30 + (index * (right - left - 60) / (count - 1));

    /// <summary>
    /// A panel's y axis: linear from 0 to a round ceiling, or, when the values span more than two decades (a small
    /// and a large model in one folder), logarithmic over whole decades so both stay readable.
    /// </summary>
    private sealed class YScale
    {
        private const int LinearTicks = 5;

        private readonly double _low;
        private readonly double _high;

        private YScale(bool logarithmic, double low, double high, double[] ticks)
        {
            Logarithmic = logarithmic;
            _low = low;
            _high = high;
            Ticks = ticks;
        }

        public bool Logarithmic { get; }

        public double[] Ticks { get; }

        public static YScale For(double[] values)
        {
            var positive = values.Where(v => v > 0 && double.IsFinite(v)).ToArray();
            if (positive.Length > 0 && positive.Max() / positive.Min() > 100)
            {
                var low = Math.Floor(Math.Log10(positive.Min()));
                var high = Math.Ceiling(Math.Log10(positive.Max()));
                var decades = Enumerable.Range(0, (int)(high - low) + 1).Select(d => Math.Pow(10, low + d)).ToArray();
                return new YScale(true, low, high, decades);
            }

            var top = NiceCeiling(positive.DefaultIfEmpty(0).Max());
            return new YScale(false, 0, top, Enumerable.Range(0, LinearTicks + 1).Select(t => top * t / LinearTicks).ToArray());
        }

        public double Y(double value)
        {
            var fraction = Logarithmic
                ? (value <= 0 ? 0 : (Math.Log10(value) - _low) / (_high - _low))
                : (_high <= 0 ? 0 : value / _high);
            return PlotBottom - (Math.Clamp(fraction, 0, 1) * (PlotBottom - PlotTop));
        }

        /// <summary>The smallest 1, 2, 2.5 or 5 × 10^k at or above <paramref name="value"/>.</summary>
        private static double NiceCeiling(double value)
        {
            if (value <= 0 || !double.IsFinite(value))
            {
                return 1;
            }

            var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
            foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
            {
                if (step * magnitude >= value)
                {
                    return step * magnitude;
                }
            }

            return 10 * magnitude;
        }
    }

    private static string FormatTick(double value) => value switch
    {
        >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1e4 => (value / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };

    private static XElement Line(double x1, double y1, double x2, double y2, string stroke) => new(Svg + "line",
        new XAttribute("x1", Number(x1)), new XAttribute("y1", Number(y1)),
        new XAttribute("x2", Number(x2)), new XAttribute("y2", Number(y2)),
        new XAttribute("stroke", stroke));

    private static XElement Text(double x, double y, string text, string anchor, double size, bool bold = false)
    {
        var element = new XElement(Svg + "text",
            new XAttribute("x", Number(x)), new XAttribute("y", Number(y)),
            new XAttribute("text-anchor", anchor), new XAttribute("font-size", Number(size)),
            text);
        if (bold)
        {
            element.Add(new XAttribute("font-weight", "bold"));
        }

        return element;
    }

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
