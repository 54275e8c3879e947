using System.Text.Json;

namespace ServingStack.Bench.Reporting;

/// <summary>
/// The output folder: results.json (the record of every run made into it), and results.csv and chart.svg written
/// from it, so each new run is appended and one chart compares them all.
/// </summary>
public sealed class ResultsStore
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    public ResultsStore(string directory)
    {
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    public string JsonPath => Path.Combine(Directory, "results.json");

    public string CsvPath => Path.Combine(Directory, "results.csv");

    public string ChartPath => Path.Combine(Directory, "chart.svg");

    /// <summary>The records already there; empty when there is no results.json yet.</summary>
    public ResultsFile Load()
    {
        if (!File.Exists(JsonPath))
        {
            return new ResultsFile();
        }

        try
        {
            return JsonSerializer.Deserialize<ResultsFile>(File.ReadAllBytes(JsonPath), JsonOptions) ?? new ResultsFile();
        }
        catch (JsonException ex)
        {
            throw new BenchException($"'{JsonPath}' exists but is not a results file this tool wrote ({ex.Message}); " +
                "move it away or choose another --output.", ex);
        }
    }

    /// <summary>Writes all three files; each is written beside and then renamed over the old one.</summary>
    public void Save(ResultsFile results)
    {
        ArgumentNullException.ThrowIfNull(results);
        System.IO.Directory.CreateDirectory(Directory);
        WriteAtomically(JsonPath, JsonSerializer.Serialize(results, JsonOptions) + "\n");
        WriteAtomically(CsvPath, ResultsCsv.Write(results.Records));
        WriteAtomically(ChartPath, SvgChart.Render(results.Records));
    }

    private static void WriteAtomically(string path, string text)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }
}
