using System.Globalization;

namespace ServingStack.Bench.Cli;

/// <summary>Parsing of option values: numbers, lists and durations, all culture-invariant.</summary>
public static class ValueParsers
{
    public static bool TryParseInt(string text, out int value) =>
        int.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    public static bool TryParseLong(string text, out long value) =>
        long.TryParse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    /// <summary>"1,8,32" (spaces allowed); duplicates are kept out, order is kept.</summary>
    public static bool TryParseIntList(string text, out IReadOnlyList<int> values)
    {
        var list = new List<int>();
        values = list;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!TryParseInt(part, out var value))
            {
                return false;
            }

            if (!list.Contains(value))
            {
                list.Add(value);
            }
        }

        return list.Count > 0;
    }

    /// <summary>"500ms", "10s", "2m", "1h", or a bare number of seconds ("1.5").</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        text = text.Trim().ToLowerInvariant();
        (string Suffix, double Seconds)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)];
        var scale = 1.0;
        foreach (var (suffix, seconds) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal))
            {
                text = text[..^suffix.Length];
                scale = seconds;
                break;
            }
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            || !double.IsFinite(number) || number < 0 || number * scale > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(number * scale);
        return true;
    }

    public static string Format(TimeSpan value) => value.TotalSeconds >= 1 || value == TimeSpan.Zero
        ? value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
        : value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
}
