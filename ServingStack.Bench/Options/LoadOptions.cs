using System.Globalization;
using ServingStack.Bench.Cli;

namespace ServingStack.Bench.Options;

/// <summary>What every load step shares: how long it warms up and measures, its request cap, and where results go.</summary>
public sealed record LoadOptions
{
    public const long DefaultMaxRequests = 10_000_000;

    /// <summary>Requests answered in this time are not measured.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long each step measures. No request starts after it.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The most measured requests a step sends; the step ends early when it is reached.</summary>
    public long MaxRequests { get; init; } = DefaultMaxRequests;

    /// <summary>Folder for results.csv, results.json and chart.svg (appended to when they exist).</summary>
    public string OutputDirectory { get; init; } = "bench-results";

    /// <summary>Names this run's series in the results and the chart; defaults to protocol and model.</summary>
    public string? Label { get; init; }

    /// <summary>Seed of the random input, so runs send the same tensors.</summary>
    public int Seed { get; init; } = 12345;

    /// <summary>The options of <see cref="LoadOptions"/>, shared by <c>run</c> and <c>inproc</c>.</summary>
    public static IReadOnlyList<OptionSpec> Specs { get; } =
    [
        new("duration", "TIME", "How long each step measures: 500ms, 10s, 2m", "10s"),
        new("warmup", "TIME", "Load before each step's measurement, not recorded", "2s"),
        new("max-requests", "N", "Most measured requests per step; the step ends when reached",
            DefaultMaxRequests.ToString(CultureInfo.InvariantCulture)),
        new("output", "DIR", "Folder for results.csv, results.json, chart.svg; earlier results there are kept", "bench-results"),
        new("label", "TEXT", "Series name in the results and the chart", "protocol and model"),
        new("seed", "N", "Seed of the random input", "12345"),
    ];

    public static LoadOptions Bind(ParsedArguments args) => new()
    {
        Duration = args.Duration("duration", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(24)),
        Warmup = args.Duration("warmup", TimeSpan.FromSeconds(2), TimeSpan.Zero, TimeSpan.FromHours(1)),
        MaxRequests = args.Long("max-requests", DefaultMaxRequests, 1, 1_000_000_000_000),
        OutputDirectory = args.Get("output") ?? "bench-results",
        Label = args.Get("label"),
        Seed = args.Int("seed", 12345, int.MinValue, int.MaxValue),
    };

    /// <summary>Problems with these values beyond their syntax.</summary>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            yield return "Option '--output' must name a folder.";
        }
        else if (File.Exists(OutputDirectory))
        {
            yield return $"Option '--output' must be a folder, but '{OutputDirectory}' is a file.";
        }

        if (Label is not null && (Label.Length == 0 || Label.Length > 100 || Label.Any(char.IsControl)))
        {
            yield return "Option '--label' must be 1 to 100 printable characters.";
        }
    }
}
