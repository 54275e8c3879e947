using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ServingStack.Tests.Hostile;

/// <summary>
/// One entry of a hostile-request corpus (<c>rest-corpus.json</c>): what to send and the client error it must get.
/// Paths, header values and bodies may hold <c>{{repeat:TEXT:COUNT}}</c> (TEXT, COUNT times) and <c>{{hex:HEX}}</c>
/// (raw bytes, for text that is not UTF-8), so huge or binary requests stay one line of data. An entry's optional
/// <c>gateway</c> object (<c>status</c>, <c>contains</c>) states the answer through the gateway where it differs (the
/// gateway refuses it first); <c>bare</c> marks a refusal of the HTTP server itself (431, 413), which has no error body.
/// </summary>
public sealed partial record HostileRequest(
    string Name, string Method, string Path, IReadOnlyDictionary<string, string> Headers, string? Body, int Status, IReadOnlyList<string> Contains)
{
    /// <summary>The answer through the gateway where it differs from the server's own.</summary>
    public (int Status, IReadOnlyList<string> Contains)? Gateway { get; init; }

    /// <summary>No <c>{"error": ...}</c> body is expected: the HTTP server refused the request before any handler.</summary>
    public bool Bare { get; init; }

    public override string ToString() => Name;

    /// <summary>Reads a corpus file copied beside the tests.</summary>
    public static IReadOnlyList<HostileRequest> Load(string fileName, string section = "requests")
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(System.IO.Path.Combine(AppContext.BaseDirectory, "Hostile", fileName)));
        var requests = new List<HostileRequest>();
        foreach (var entry in document.RootElement.GetProperty(section).EnumerateArray())
        {
            var headers = new Dictionary<string, string>();
            if (entry.TryGetProperty("headers", out var h))
            {
                foreach (var header in h.EnumerateObject())
                {
                    headers[header.Name] = header.Value.GetString()!;
                }
            }

            var contains = entry.TryGetProperty("contains", out var c) ? c.EnumerateArray().Select(f => f.GetString()!).ToArray() : [];
            requests.Add(new HostileRequest(
                entry.GetProperty("name").GetString()!,
                entry.GetProperty("method").GetString()!,
                entry.GetProperty("path").GetString()!,
                headers,
                entry.TryGetProperty("body", out var body) ? body.GetString() : null,
                entry.GetProperty("status").GetInt32(),
                contains)
            {
                Gateway = entry.TryGetProperty("gateway", out var g)
                    ? (g.GetProperty("status").GetInt32(), g.TryGetProperty("contains", out var gc) ? gc.EnumerateArray().Select(f => f.GetString()!).ToArray() : [])
                    : null,
                Bare = entry.TryGetProperty("bare", out var bare) && bare.GetBoolean(),
            });
        }

        return requests;
    }

    public string ExpandedPath() => Encoding.UTF8.GetString(Expand(Path));

    public static string ExpandedHeader(string value) => Encoding.UTF8.GetString(Expand(value));

    public byte[]? BodyBytes() => Body is null ? null : Expand(Body);

    [GeneratedRegex(@"\{\{(repeat|hex):(.*?)\}\}", RegexOptions.Singleline)]
    private static partial Regex Template();

    /// <summary>The bytes of <paramref name="text"/> with its <c>{{repeat:...}}</c> and <c>{{hex:...}}</c> expanded.</summary>
    public static byte[] Expand(string text)
    {
        var output = new MemoryStream();
        var at = 0;
        foreach (Match match in Template().Matches(text))
        {
            output.Write(Encoding.UTF8.GetBytes(text[at..match.Index]));
            var argument = match.Groups[2].Value;
            if (match.Groups[1].Value == "hex")
            {
                output.Write(Convert.FromHexString(argument));
            }
            else
            {
                var colon = argument.LastIndexOf(':');
                var unit = Encoding.UTF8.GetBytes(argument[..colon]);
                for (var i = int.Parse(argument[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture); i > 0; i--)
                {
                    output.Write(unit);
                }
            }

            at = match.Index + match.Length;
        }

        output.Write(Encoding.UTF8.GetBytes(text[at..]));
        return output.ToArray();
    }
}
