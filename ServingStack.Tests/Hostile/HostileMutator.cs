using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// Seeded mutations of valid requests: byte flips, truncation, duplication, deletion and insertion of bytes, and for
/// JSON text huge numbers, deep nesting, type swaps, invalid UTF-8 and shape/length mismatches. The same seed gives
/// the same sequence of mutants, so a failure reproduces from the seed and the mutant's index.
/// </summary>
public sealed partial class HostileMutator(int seed)
{
    private static readonly string[] s_hugeNumbers =
    [
        "1e400", "-1e400", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "3.5e38", "65520",
        "1" + new string('0', 400), "0." + new string('0', 400) + "1", "-0", "4294967296", "2147483648", "NaN", "-Infinity", "1e-400",
    ];

    private static readonly string[] s_swaps = ["null", "true", "false", "\"x\"", "{}", "[]", "[[]]", "{\"a\":1}", "\"\"", "0", "-1", "[null]"];

    private static readonly string[] s_dimensions = ["0", "-1", "-9", "2147483648", "9223372036854775807", "3037000500", "268435455", "1.5", "\"3\"", "null", "7", "2"];

    private readonly Random _random = new(seed);

    public int Next(int max) => _random.Next(max);

    /// <summary>A byte-level mutation of <paramref name="input"/> and what it did.</summary>
    public (byte[] Bytes, string Kind) MutateBytes(byte[] input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var bytes = input.ToList();
        switch (_random.Next(6))
        {
            case 0:
                for (var i = 1 + _random.Next(4); i > 0 && bytes.Count > 0; i--)
                {
                    var at = _random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << _random.Next(8));
                }

                return ([.. bytes], "bit flips");
            case 1:
                for (var i = 1 + _random.Next(4); i > 0 && bytes.Count > 0; i--)
                {
                    bytes[_random.Next(bytes.Count)] = (byte)_random.Next(256);
                }

                return ([.. bytes], "random bytes");
            case 2:
                return ([.. bytes.Take(_random.Next(bytes.Count + 1))], "truncation");
            case 3:
            {
                var (start, length) = Slice(bytes.Count);
                bytes.InsertRange(_random.Next(bytes.Count + 1), bytes.GetRange(start, length));
                return ([.. bytes], "duplication");
            }

            case 4:
            {
                var (start, length) = Slice(bytes.Count);
                bytes.RemoveRange(start, length);
                return ([.. bytes], "deletion");
            }

            default:
            {
                var extra = new byte[1 + _random.Next(16)];
                _random.NextBytes(extra);
                bytes.InsertRange(_random.Next(bytes.Count + 1), extra);
                return ([.. bytes], "insertion");
            }
        }
    }

    /// <summary>A mutation of JSON text that knows its tokens (about half the time), else a byte-level one.</summary>
    public (byte[] Bytes, string Kind) MutateJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        switch (_random.Next(10))
        {
            case 0:
                return (Bytes(ReplaceOne(Number(), json, _ => Pick(s_hugeNumbers))), "huge number");
            case 1:
            {
                var depth = Pick([65, 200, 5_000, 100_000]);
                return (Bytes(ReplaceOne(Number(), json, m => new string('[', depth) + m.Value + new string(']', depth))), $"nesting {depth} deep");
            }

            case 2:
                return (Bytes(ReplaceOne(Value(), json, _ => Pick(s_swaps))), "type swap");
            case 3:
            {
                var bytes = Encoding.UTF8.GetBytes(json).ToList();
                var quotes = bytes.Select((b, i) => (b, i)).Where(p => p.b == (byte)'"').Select(p => p.i).ToList();
                var at = quotes.Count > 0 ? quotes[_random.Next(quotes.Count)] + 1 : _random.Next(bytes.Count + 1);
                bytes.InsertRange(at, Pick<byte[]>([[0xC3], [0xFF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0x00]]));
                return ([.. bytes], "invalid UTF-8");
            }

            case 4:
                return (Bytes(ReplaceOne(ShapeDimension(), json, m => m.Groups[1].Value + Pick(s_dimensions))), "shape mismatch");
            case 5:
                return (Bytes(ReplaceOne(NumberWithComma(), json, _ => "")), "length mismatch");
            default:
                return MutateBytes(Bytes(json));
        }
    }

    private (int Start, int Length) Slice(int count)
    {
        if (count == 0)
        {
            return (0, 0);
        }

        var start = _random.Next(count);
        return (start, 1 + _random.Next(Math.Min(count - start, 64)));
    }

    private T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    private string ReplaceOne(Regex pattern, string text, Func<Match, string> replacement)
    {
        var matches = pattern.Matches(text);
        if (matches.Count == 0)
        {
            return text;
        }

        var match = matches[_random.Next(matches.Count)];
        return string.Concat(text.AsSpan(0, match.Index), replacement(match), text.AsSpan(match.Index + match.Length));
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static string Describe(int seed, int index, string target, string kind, byte[] mutant)
    {
        ArgumentNullException.ThrowIfNull(mutant);
        var cut = mutant.Length <= 512 ? mutant : mutant[..512];
        return string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}, mutant {index} ({kind}) to {target}, {mutant.Length} bytes{(mutant.Length > 512 ? ", first 512" : "")}: {Convert.ToHexString(cut)}");
    }

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][-+]?\d+)?")]
    private static partial Regex Number();

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][-+]?\d+)?,\s*")]
    private static partial Regex NumberWithComma();

    [GeneratedRegex(@"""[^""]*""|-?\d+(\.\d+)?|\[[^\[\]]*\]")]
    private static partial Regex Value();

    [GeneratedRegex(@"(""shape""\s*:\s*\[[^\]]*?)-?\d+")]
    private static partial Regex ShapeDimension();
}
