using System.Globalization;
using System.Text;

namespace ServingStack.ModelSync.Sources;

/// <summary>
/// Text a source controls (names, error messages, reason phrases) as it may appear in problems, logs and
/// <c>/ready</c>: control characters escaped (no forged log lines), cut to a readable length (no megabyte messages).
/// </summary>
internal static class SourceText
{
    public static string Display(string? text, int max = 300)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        var result = new StringBuilder(Math.Min(text.Length, max) + 16);
        foreach (var c in text)
        {
            if (result.Length >= max)
            {
                result.Append("...");
                break;
            }

            if (char.IsControl(c))
            {
                result.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                result.Append(c);
            }
        }

        return result.ToString();
    }
}
