using System.Globalization;
using System.Text;

namespace ServingStack.Tests.Inference.Metrics;

/// <summary>
/// A Prometheus text page read strictly, line by line: <c># TYPE</c> lines and samples <c>name{a="x",...} value</c>
/// with names that may start with ':' (TF Serving's) and escaped label values. Anything else fails the test.
/// </summary>
public sealed class PrometheusPage
{
    private PrometheusPage(Dictionary<string, string> types, List<PrometheusSample> samples)
    {
        Types = types;
        Samples = samples;
    }

    /// <summary>Metric name → type, from the TYPE lines, in page order.</summary>
    public Dictionary<string, string> Types { get; }

    public List<PrometheusSample> Samples { get; }

    public static PrometheusPage Parse(string text)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<PrometheusSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line["# TYPE ".Length..].Split(' ');
                Assert.True(parts.Length == 2, $"bad TYPE line: {line}");
                Assert.True(types.TryAdd(parts[0], parts[1]), $"TYPE given twice: {line}");
                continue;
            }

            Assert.False(line.StartsWith('#'), $"unexpected comment: {line}");
            samples.Add(ParseSample(line));
        }

        return new PrometheusPage(types, samples);
    }

    /// <summary>The samples of <paramref name="name"/> (e.g. <c>x_bucket</c>) whose labels include all of <paramref name="labels"/>.</summary>
    public List<PrometheusSample> Find(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();

    public double Value(string name, params (string Key, string Value)[] labels) => Assert.Single(Find(name, labels)).Value;

    private static PrometheusSample ParseSample(string line)
    {
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        Assert.True(brace > 0, $"sample without braces (TF's exporter always writes them): {line}");
        var name = line[..brace];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = brace + 1;
        while (line[i] != '}')
        {
            var equals = line.IndexOf('=', i);
            var key = line[i..equals];
            Assert.True(line[equals + 1] == '"', $"unquoted label value: {line}");
            var value = new StringBuilder();
            i = equals + 2;
            while (line[i] != '"')
            {
                if (line[i] == '\\')
                {
                    i++;
                    value.Append(line[i] == 'n' ? '\n' : line[i]);
                }
                else
                {
                    value.Append(line[i]);
                }

                i++;
            }

            Assert.True(labels.TryAdd(key, value.ToString()), $"label {key} given twice: {line}");
            i++;
            if (line[i] == ',')
            {
                i++;
            }
        }

        Assert.True(line[i + 1] == ' ', $"no space before the value: {line}");
        var valueText = line[(i + 2)..];
        var number = valueText == "+Inf" ? double.PositiveInfinity : double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture);
        return new PrometheusSample(name, labels, number, valueText);
    }
}
