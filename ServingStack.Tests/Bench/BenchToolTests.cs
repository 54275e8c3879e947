using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Bench;

/// <summary>ServingStack.Bench run as a process, as a user runs it: against the real server, in process, and refusing bad input.</summary>
public sealed class BenchToolTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    private string OutputDirectory => Path.Combine(_repo.Root, "results");

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Rest_run_against_the_server_measures_each_concurrency_and_writes_csv_json_and_svg()
    {
        _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");

        var result = await BenchProcess.RunAsync(
            "run", "--protocol", "rest", "--url", server.Address.ToString(), "--model", "mnist",
            "--concurrency", "1,2", "--duration", "1s", "--warmup", "0s", "--output", OutputDirectory, "--label", "test run");

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = ReadCsv(Path.Combine(OutputDirectory, "results.csv"));
        Assert.True(rows.Count == 2, result.ToString());
        Assert.Equal(["1", "2"], rows.Select(r => r["concurrency"]));
        foreach (var row in rows)
        {
            Assert.Equal("rest-v2", row["protocol"]);
            Assert.Equal("test run", row["label"]);
            Assert.True(long.Parse(row["requests"], CultureInfo.InvariantCulture) > 0, result.ToString());
            Assert.Equal("0", row["errors"]);
            Assert.Equal(string.Empty, row["errors_by_kind"]);
            Assert.True(double.Parse(row["rows_per_s"], CultureInfo.InvariantCulture) > 0, result.ToString());
            Assert.True(double.Parse(row["p99_ms"], CultureInfo.InvariantCulture) >= double.Parse(row["p50_ms"], CultureInfo.InvariantCulture));
        }

        var json = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(OutputDirectory, "results.json")))!;
        var records = json["records"]!.AsArray();
        Assert.Equal(2, records.Count);
        Assert.All(records, r =>
        {
            Assert.Equal("server", r!["mode"]!.GetValue<string>());
            Assert.Equal("mnist", r["model"]!.GetValue<string>());
            Assert.True(r["requests"]!.GetValue<long>() > 0);
            Assert.True(r["machine"]!["cores"]!.GetValue<int>() > 0);
        });

        AssertChart(Path.Combine(OutputDirectory, "chart.svg"), "test run");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Grpc_run_with_raw_or_typed_contents_measures_without_errors(bool raw)
    {
        _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");

        string[] args = ["run", "--protocol", "grpc", "--url", server.GrpcAddress.ToString(), "--model", "mnist",
            "--concurrency", "2", "--duration", "1s", "--warmup", "0s", "--output", OutputDirectory];
        var result = await BenchProcess.RunAsync(raw ? [.. args, "--raw"] : args);

        Assert.True(result.ExitCode == 0, result.ToString());
        var row = Assert.Single(ReadCsv(Path.Combine(OutputDirectory, "results.csv")));
        Assert.StartsWith("grpc", row["protocol"]);
        Assert.True(long.Parse(row["requests"], CultureInfo.InvariantCulture) > 0, result.ToString());
        Assert.Equal("0", row["errors"]);
    }

    [Theory]
    [InlineData(true, "tf-grpc-content")]
    [InlineData(false, "tf-grpc-typed")]
    public async Task Tf_serving_grpc_run_checks_its_outputs_against_open_inference_then_measures_without_errors(bool tensorContent, string protocol)
    {
        _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");

        string[] args = ["run", "--protocol", "tf-grpc", "--url", server.GrpcAddress.ToString(), "--model", "mnist",
            "--concurrency", "2", "--duration", "1s", "--warmup", "0s", "--output", OutputDirectory];
        var result = await BenchProcess.RunAsync(tensorContent ? [.. args, "--raw"] : args);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("outputs checked: 1 output(s), every element equal to the Open Inference gRPC answer", result.StdOut);
        var row = Assert.Single(ReadCsv(Path.Combine(OutputDirectory, "results.csv")));
        Assert.Equal(protocol, row["protocol"]);
        Assert.True(long.Parse(row["requests"], CultureInfo.InvariantCulture) > 0, result.ToString());
        Assert.Equal("0", row["errors"]);
    }

    [Fact]
    public async Task Rest_binary_run_checks_its_outputs_against_open_inference_json_then_measures_without_errors()
    {
        _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");

        var result = await BenchProcess.RunAsync(
            "run", "--protocol", "rest", "--rest-format", "binary", "--url", server.Address.ToString(), "--model", "mnist",
            "--concurrency", "2", "--duration", "1s", "--warmup", "0s", "--output", OutputDirectory);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("outputs checked: 1 output(s), every element equal to the Open Inference JSON answer", result.StdOut);
        Assert.Contains("3,305 bytes per request", result.StdOut); // JSON header + 784 × 4 raw bytes, not JSON numbers
        var row = Assert.Single(ReadCsv(Path.Combine(OutputDirectory, "results.csv")));
        Assert.Equal("rest-binary", row["protocol"]);
        Assert.True(long.Parse(row["requests"], CultureInfo.InvariantCulture) > 0, result.ToString());
        Assert.Equal("0", row["errors"]);
    }

    [Fact]
    public async Task Tf_serving_grpc_run_against_a_server_without_that_service_fails_before_any_load()
    {
        var modelFile = _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        await using var baseline = await BaselineProcess.StartAsync("serve-ort", modelFile);

        var result = await BenchProcess.RunAsync(
            "run", "--protocol", "tf-grpc", "--raw", "--url", baseline.Address.ToString(), "--model", "mnist",
            "--duration", "1s", "--warmup", "0s", "--output", OutputDirectory);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("The first request failed, so no load was run: TF Serving gRPC Predict", result.StdErr);
        Assert.Contains("Unimplemented", result.StdErr);
        Assert.False(File.Exists(Path.Combine(OutputDirectory, "results.csv")), result.ToString());
    }

    [Fact]
    public async Task Inproc_measures_each_batch_size_and_appends_to_earlier_results()
    {
        var model = _repo.AddMlp("mnist", 1, seed: MlpWeights.DefaultSeed);
        string[] args = ["inproc", "--model-file", model, "--batch-sizes", "1,4", "--duration", "1s", "--warmup", "0s", "--output", OutputDirectory];

        var first = await BenchProcess.RunAsync([.. args, "--label", "first"]);
        Assert.True(first.ExitCode == 0, first.ToString());
        var rows = ReadCsv(Path.Combine(OutputDirectory, "results.csv"));
        Assert.Equal(["1", "4"], rows.Select(r => r["batch_size"]));
        Assert.All(rows, r =>
        {
            Assert.Equal("inproc", r["mode"]);
            Assert.Equal("mnist", r["model"]);
            Assert.True(double.Parse(r["rows_per_s"], CultureInfo.InvariantCulture) > 0, first.ToString());
        });

        // A second run into the same folder adds its series, so one chart compares both.
        var second = await BenchProcess.RunAsync([.. args, "--label", "second", "--max-requests", "50"]);
        Assert.True(second.ExitCode == 0, second.ToString());
        rows = ReadCsv(Path.Combine(OutputDirectory, "results.csv"));
        Assert.Equal(["first", "first", "second", "second"], rows.Select(r => r["label"]));
        Assert.All(rows.Skip(2), r => Assert.True(long.Parse(r["requests"], CultureInfo.InvariantCulture) <= 50));
        AssertChart(Path.Combine(OutputDirectory, "chart.svg"), "first", "second");
    }

    [Fact]
    public async Task A_url_that_is_not_loopback_is_refused_before_anything_is_sent()
    {
        // 10.1.2.3 must never be contacted: the tool refuses while checking its arguments.
        var result = await BenchProcess.RunAsync(
            "run", "--url", "http://10.1.2.3:8501", "--model", "mnist", "--duration", "1s", "--output", OutputDirectory);

        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("10.1.2.3", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("loopback", result.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(OutputDirectory), result.ToString());
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(10), result.ToString());
    }

    [Fact]
    public async Task Bad_arguments_exit_non_zero_listing_every_error()
    {
        var result = await BenchProcess.RunAsync(
            "run", "--protocol", "http", "--concurrency", "0,x", "--duration", "forever", "--rows-per-request", "-3", "--unknown", "1");

        Assert.True(result.ExitCode == 2, result.ToString());
        var errors = result.StdErr.Split('\n').Where(l => l.StartsWith("  - ", StringComparison.Ordinal)).ToArray();
        foreach (var option in new[] { "--protocol", "--concurrency", "--duration", "--rows-per-request", "--unknown", "--model" })
        {
            Assert.True(errors.Any(e => e.Contains(option, StringComparison.Ordinal)), $"No error names {option}.\n{result}");
        }

        Assert.Equal(6, errors.Length);
        Assert.False(Directory.Exists(OutputDirectory));
    }

    [Theory]
    [InlineData("run", "--concurrency")]
    [InlineData("inproc", "--batch-sizes")]
    [InlineData("make-models", "--output")]
    [InlineData("serve-echo", "--model-file")]
    [InlineData("serve-ort", "--port")]
    [InlineData("minimal-client", "--duration")]
    public async Task Each_command_has_help(string command, string option)
    {
        var result = await BenchProcess.RunAsync(command, "--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(option, result.StdOut, StringComparison.Ordinal);
    }

    private static List<Dictionary<string, string>> ReadCsv(string path)
    {
        // The header has no quoted fields; rows may (the OS description, labels).
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        return lines.Skip(1)
            .Select(line => ParseCsvLine(line))
            .Select(fields => header.Zip(fields).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal))
            .ToList();
    }

    private static List<string> ParseCsvLine(string line)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
            {
                field.Append(c);
            }
        }

        fields.Add(field.ToString());
        return fields;
    }

    private static void AssertChart(string path, params string[] labels)
    {
        var chart = XDocument.Load(path);
        XNamespace svg = "http://www.w3.org/2000/svg";
        Assert.Equal(svg + "svg", chart.Root!.Name);
        var texts = chart.Descendants(svg + "text").Select(t => t.Value).ToArray();
        Assert.Contains(texts, t => t.Contains("rows/s", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.Contains("p99", StringComparison.Ordinal));
        foreach (var label in labels)
        {
            Assert.Contains(label, texts);
        }

        Assert.NotEmpty(chart.Descendants(svg + "circle"));
    }
}
