using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Google.Protobuf;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Inference.Repository;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference.Repository;

/// <summary>Versions change under a running load: nothing fails, and every answer is from the version the policy names.</summary>
public sealed class HotReloadTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private sealed record Answer(long StartedAt, long Version, bool MatchesItsVersion, string? Failure);

    /// <summary>Sends requests from REST and gRPC workers until stopped; records which version answered each.</summary>
    private static async Task<List<Answer>> LoadLoopAsync(InferenceServer server, string model, Func<long, MlpWeights> weightsOf, CancellationToken stop)
    {
        var answers = new ConcurrentBag<Answer>();
        var grpc = new GRPCInferenceService.GRPCInferenceServiceClient(server.GrpcChannel);

        async Task Worker(int id, bool useGrpc)
        {
            for (var n = 0; !stop.IsCancellationRequested && n < 100_000; n++)
            {
                var row = TestData.MnistRows(1, seed: id * 100_000 + n)[0];
                var started = Stopwatch.GetTimestamp();
                try
                {
                    long version;
                    float[] output;
                    if (useGrpc)
                    {
                        var request = new ModelInferRequest { ModelName = model };
                        var input = new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32" };
                        input.Shape.Add([1, MlpWeights.InputSize]);
                        request.Inputs.Add(input);
                        request.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(row.AsSpan())));
                        var response = await grpc.ModelInferAsync(request, cancellationToken: CancellationToken.None);
                        version = long.Parse(response.ModelVersion);
                        output = MemoryMarshal.Cast<byte, float>(response.RawOutputContents[0].Span).ToArray();
                    }
                    else
                    {
                        var body = new JsonObject
                        {
                            ["inputs"] = new JsonArray(new JsonObject
                            {
                                ["name"] = "x", ["shape"] = new JsonArray(1, MlpWeights.InputSize), ["datatype"] = "FP32",
                                ["data"] = new JsonArray(row.Select(v => (JsonNode)v).ToArray()),
                            }),
                        };
                        var (status, json, text) = await Json.PostAsync(server.Client, $"/v2/models/{model}/infer", body);
                        if (status != 200)
                        {
                            answers.Add(new Answer(started, 0, false, $"REST {status}: {text}"));
                            continue;
                        }

                        version = long.Parse(json!["model_version"]!.GetValue<string>());
                        output = Json.Floats(json["outputs"]![0]!["data"]);
                    }

                    var expected = weightsOf(version).Evaluate(row);
                    var matches = expected.Select((e, i) => Math.Abs(e - output[i]) <= 1e-5).All(x => x);
                    answers.Add(new Answer(started, version, matches, null));
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    answers.Add(new Answer(started, 0, false, $"{(useGrpc ? "gRPC" : "REST")}: {ex.GetType().Name}: {ex.Message}"));
                }
                catch (Exception) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        await Task.WhenAll(Worker(1, false), Worker(2, false), Worker(3, true), Worker(4, true));
        return [.. answers];
    }

    [Fact]
    public async Task Swapping_v1_for_v2_under_REST_and_gRPC_load_fails_no_request_and_moves_to_v2()
    {
        var name = "swap_" + Guid.NewGuid().ToString("N")[..8];
        _repo.AddMlp(name, 1, seed: 1);
        await using var server = await InferenceServer.StartReadyAsync($"--model_name={name}", $"--model_base_path={_repo.ModelPath(name)}");
        using var metrics = new MetricsRecorder(name);
        using var stop = new CancellationTokenSource();
        var load = LoadLoopAsync(server, name, v => MlpWeights.Create((int)v), stop.Token);
        await Eventually.TrueAsync(() => metrics.Values("servingstack.requests").Count >= 20, "v1 to answer under load");

        // Publish v2 as ModelSync does: complete folder, one rename.
        var staging = Path.Combine(_repo.Root, "staging");
        ModelFactory.WriteVersion(staging, 2, ModelFactory.CreateMlp(MlpWeights.Create(2)));
        Directory.Move(Path.Combine(staging, "2"), Path.Combine(_repo.ModelPath(name), "2"));

        var model = server.Models.Models[0];
        await Eventually.TrueAsync(() => model.Find(1)?.State == ModelVersionState.End && model.Find(2)?.State == ModelVersionState.Available, "v2 to serve and v1 to unload");
        var v1Gone = Stopwatch.GetTimestamp();
        await Eventually.TrueAsync(() => Stopwatch.GetElapsedTime(v1Gone) > TimeSpan.FromMilliseconds(300), "a little more load");
        await stop.CancelAsync();
        var answers = await load;

        Assert.True(answers.Count > 50, $"only {answers.Count} requests were sent");
        Assert.Empty(answers.Where(a => a.Failure is not null).Select(a => a.Failure));
        Assert.All(answers, a => Assert.True(a.MatchesItsVersion, $"an answer from version {a.Version} does not match that version's reference"));
        Assert.Contains(answers, a => a.Version == 1);
        Assert.Contains(answers, a => a.Version == 2);
        // Once v1 has unloaded, only v2 can answer.
        Assert.All(answers.Where(a => a.StartedAt > v1Gone), a => Assert.Equal(2, a.Version));
        Assert.Null(model.Find(1)!.Error);
    }

    [Fact]
    public async Task A_version_copied_in_place_is_retried_until_complete_while_the_old_one_keeps_serving()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        await using var server = await InferenceServer.StartReadyAsync("--model_name=mnist", $"--model_base_path={_repo.ModelPath("mnist")}");
        using var stop = new CancellationTokenSource();
        var load = LoadLoopAsync(server, "mnist", v => MlpWeights.Create((int)v), stop.Token);
        var model = server.Models.Models[0];

        // Half a file, as a slow copy leaves it: whatever the server makes of it, v1 keeps answering.
        var bytes = ModelFactory.CreateMlp(MlpWeights.Create(2));
        var dir = Directory.CreateDirectory(Path.Combine(_repo.ModelPath("mnist"), "2")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(dir, "model.onnx"), bytes[..(bytes.Length / 2)]);
        await Eventually.TrueAsync(() => model.Find(2) is { State: ModelVersionState.End, Error: not null }, "the truncated copy to fail to load");
        Assert.Equal(ModelVersionState.Available, model.Find(1)!.State);

        // The copy finishes: the changed files are loaded without waiting for the backoff.
        await File.WriteAllBytesAsync(Path.Combine(dir, "model.onnx"), bytes);
        await Eventually.TrueAsync(() => model.Find(2)?.State == ModelVersionState.Available && model.Find(1)?.State == ModelVersionState.End, "v2 to load once complete");
        await stop.CancelAsync();
        var answers = await load;

        Assert.Empty(answers.Where(a => a.Failure is not null).Select(a => a.Failure));
        Assert.All(answers, a => Assert.True(a.MatchesItsVersion));
        Assert.Contains(server.Log.Entries, e => e.EventId.Name == "VersionLoadFailed" && e.Message.Contains("next try", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_changed_config_file_moves_labels_only_to_available_versions_and_adds_and_removes_models()
    {
        _repo.AddMlp("mnist", 1, seed: 1);
        _repo.AddMlp("mnist", 2, seed: 2);
        _repo.AddMlp("extra", 1, seed: 5);
        string Config(string labels, string more = "") => $$"""
            { "model_config_list": [
                { "name": "mnist", "base_path": "mnist", "model_version_policy": { "specific": { "versions": [1, 2, 3] } }, "version_labels": { {{labels}} } } {{more}} ] }
            """;
        var path = _repo.WriteConfig("models.json", Config("\"stable\": 1"));
        await using var server = await InferenceServer.StartReadyAsync($"--model_config_file={path}", "--model_config_file_poll_wait_seconds=1");
        var model = server.Models.Models[0];
        Assert.Equal(1, model.Labels["stable"]);

        // stable → 3, which does not exist yet: the label stays on 1. extra is added.
        File.WriteAllText(path, Config("\"stable\": 3", """, { "name": "extra", "base_path": "extra" }"""));
        await Eventually.TrueAsync(() => server.Models.Models.Count == 2 && server.Models.Models[1].HasAvailableVersion, "the new model to load");
        Assert.Equal(1, model.Labels["stable"]);
        var (status, body, _) = await Json.GetAsync(server.Client, "/v2/models/extra");
        Assert.Equal(200, status);

        // Version 3 appears: the label moves once it is AVAILABLE.
        _repo.AddMlp("mnist", 3, seed: 3);
        await Eventually.TrueAsync(() => model.Labels.TryGetValue("stable", out var v) && v == 3, "stable to move to 3");
        Assert.Equal(ModelVersionState.Available, model.Find(3)!.State);

        // A broken file is refused whole; the running config stays.
        File.WriteAllText(path, """{ "model_config_list": [ { "name": "mnist" } ] }""");
        await Eventually.TrueAsync(() => server.Log.Entries.Any(e => e.EventId.Name == "ConfigRejected"), "the broken file to be refused");
        Assert.Equal(2, server.Models.Models.Count);

        // extra removed: it stops being served.
        File.WriteAllText(path, Config("\"stable\": 3"));
        await Eventually.TrueAsync(() => server.Models.Models.Count == 1, "extra to be removed");
        (status, body, _) = await Json.GetAsync(server.Client, "/v2/models/extra");
        Assert.Equal(404, status);
        Assert.Contains("'extra'", body!["error"]!.GetValue<string>());
    }
}
