using System.Globalization;
using System.Text;

namespace ServingStack.Inference.Metrics;

/// <summary>
/// How tensorflow_model_server's Prometheus exporter spells things: label pairs in declared order, values with backslash
/// and quote escaped, and floating-point numbers (bucket limits, sums) with six significant digits, as C's <c>%g</c>.
/// </summary>
internal static class TfExposition
{
    public static string FormatDouble(double value) => value.ToString("g6", CultureInfo.InvariantCulture);

    public static StringBuilder AppendInteger(this StringBuilder text, long value) => text.Append(value.ToString(CultureInfo.InvariantCulture));

    /// <summary><c>a="x",b="y"</c> for <paramref name="names"/>; nothing for a series without labels.</summary>
    public static StringBuilder AppendLabels(this StringBuilder text, string[] names, in TfLabelValues values)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            text.Append(names[i]).Append("=\"");
            foreach (var c in values[i])
            {
                // TF escapes backslash and quote; a newline would end the sample line, so it is escaped too.
                _ = c switch
                {
                    '\\' => text.Append("\\\\"),
                    '"' => text.Append("\\\""),
                    '\n' => text.Append("\\n"),
                    _ => text.Append(c),
                };
            }

            text.Append('"');
        }

        return text;
    }
}
