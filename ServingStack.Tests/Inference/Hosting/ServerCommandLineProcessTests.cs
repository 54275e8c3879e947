using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Grpc.Net.Client;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.Hosting;

/// <summary>The real server process started as a tensorflow_model_server command line (or a Deployment for its image) would start it.</summary>
public sealed class ServerCommandLineProcessTests : IDisposable
{
    private const string Project = "ServingStack.Inference";
    private static readonly TimeSpan Exit = TimeSpan.FromSeconds(60);
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public async Task Flag_forms_warned_flags_and_the_images_MODEL_NAME_and_MODEL_BASE_PATH_each_have_their_effect()
    {
        _repo.AddMlp("digits", 1, seed: 42);
        var socket = Path.Combine(_repo.Root, "grpc.sock");
        var environment = new Dictionary<string, string>
        {
            // As a Deployment written for the tensorflow/serving image sets them: no --model_* flag at all.
            ["MODEL_BASE_PATH"] = _repo.Root,
            ["MODEL_NAME"] = "digits",
        };
        await using var server = await ServerProcess.StartAsync(environment,
            "--enable_batching", // bare, with a flag after it
            "--rest_api_enable_cors_support=1",
            "--enable_model_warmup=false",
            "--allow_spinning=0",
            "--tensorflow_session_parallelism=2",
            $"--grpc_socket_path={socket}",
            "--platform_config_file=/etc/tf/platform.config",
            "--saved_model_tags=serve");

        // MODEL_NAME names the model, served from MODEL_BASE_PATH/MODEL_NAME.
        var rows = TestData.MnistRows(2, seed: 5);
        var (status, body, text) = await Json.PostAsync(server.Client, "/v1/models/digits:predict", new JsonObject { ["instances"] = Json.Matrix(rows) });
        Assert.True(status == 200, text);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), Json.Floats(body!["predictions"]![r]));
        }

        var log = LogMessages(server.Output);
        Assert.Contains(log, m => m.Contains($"serving model 'digits' from {Path.Join(_repo.Root, "digits")} (MODEL_BASE_PATH/MODEL_NAME)", StringComparison.Ordinal));

        // --enable_batching (bare): the request ran as a batch.
        var metrics = await server.Client.GetStringAsync("/metrics");
        Assert.Contains("servingstack_batch_size_bucket{otel_scope_name=\"ServingStack.Inference\",model=\"digits\"", metrics, StringComparison.Ordinal);

        // --rest_api_enable_cors_support=1: a browser's preflight is answered for any origin.
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/models/digits:predict");
        preflight.Headers.Add("Origin", "https://notebook.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type");
        using var answer = await server.Client.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode);
        Assert.Equal("*", Assert.Single(answer.Headers.GetValues("Access-Control-Allow-Origin")));

        // --enable_model_warmup=false, --allow_spinning=0 and --tensorflow_session_parallelism=2 reach the session.
        Assert.Contains(log, m => m.StartsWith("Model digits version 1: no warm-up inference (--enable_model_warmup=false)", StringComparison.Ordinal));
        Assert.Contains(log, m => m.StartsWith("Model digits version 1: ONNX Runtime session with intra-op threads 2, inter-op threads 2 (0: ONNX Runtime's default), spinning False", StringComparison.Ordinal));

        // One warning line per flag with no effect here.
        Assert.Single(log, m => m.Contains("--platform_config_file has no effect here: ", StringComparison.Ordinal));
        Assert.Single(log, m => m.Contains("--saved_model_tags has no effect here: ", StringComparison.Ordinal));
        Assert.Single(server.Output.Split('\n'), l => l.Contains("--saved_model_tags", StringComparison.Ordinal));

        // --grpc_socket_path: the gRPC services answer on the Unix socket too.
        using var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await client.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
                    return new NetworkStream(client, ownsSocket: true);
                },
            },
        });
        var ready = await new GRPCInferenceService.GRPCInferenceServiceClient(channel).ModelReadyAsync(new ModelReadyRequest { Name = "digits" });
        Assert.True(ready.Ready);
    }

    [Fact]
    public async Task A_bad_command_line_exits_1_naming_every_problem_with_the_usage_and_no_stack_trace()
    {
        var run = await ProcessRun.RunAsync(Project, null, Exit,
            "--rest_api_prot=1234", "--max_num_threads=8", "--port", "9000", "--enable_batching=yes", $"--model_base_path={_repo.Root}");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("unknown flag --rest_api_prot (did you mean --rest_api_port?)", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("unknown flag --max_num_threads", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("--port=9000", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("--enable_batching=yes: not a valid bool", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("usage: ServingStack.Inference", run.StdErr, StringComparison.Ordinal);
        Assert.Contains("--max_num_load_retries=5", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr + run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_configuration_exits_1_listing_every_problem_without_a_stack_trace()
    {
        var batching = _repo.WriteConfig("batching.config", "max_batch_size { value: 8 }\nmade_up_key { value: 3 }\n");
        var run = await ProcessRun.RunAsync(Project, new Dictionary<string, string> { ["Serving__AdminApiKey"] = "short" }, Exit,
            "--enable_batching", $"--batching_parameters_file={batching}", "--port=70000", "--max_num_load_retries=-1");

        Assert.True(run.ExitCode == 1, run.ToString());
        string[] problems =
        [
            "No models to serve",
            "Serving:AdminApiKey must be at least 16 characters.",
            "Serving:Port (--port) must be 0..65535, not 70000.",
            "--max_num_load_retries must be >= 0, not -1.",
            "made_up_key: unknown field",
        ];
        foreach (var problem in problems)
        {
            Assert.Contains(problem, run.StdErr, StringComparison.Ordinal);
        }

        Assert.StartsWith("ServingStack.Inference: invalid configuration:", run.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.StdErr + run.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_and_version_print_and_exit_0()
    {
        var help = await ProcessRun.RunAsync(Project, null, Exit, "--help");
        Assert.True(help.ExitCode == 0, help.ToString());
        Assert.StartsWith("usage: ServingStack.Inference", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("--tensorflow_session_parallelism=0", help.StdOut, StringComparison.Ordinal);

        var version = await ProcessRun.RunAsync(Project, null, Exit, "--version");
        Assert.True(version.ExitCode == 0, version.ToString());
        Assert.Matches(@"^ServingStack model server: \d+\.\d+\.\d+", version.StdOut);
        Assert.Matches(@"ONNX Runtime: \d+\.\d+\.\d+", version.StdOut);
    }

    /// <summary>The message of each log line (the process logs JSON, one object per line, outside Development).</summary>
    private static List<string> LogMessages(string output)
    {
        var messages = new List<string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            messages.Add(line.StartsWith('{') && JsonNode.Parse(line)?["Message"] is { } message ? message.GetValue<string>() : line);
        }

        return messages;
    }
}
