//#if (kubernetes)
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using k8s;
using k8s.Models;
using ServingStack.Inference.Protocols.OpenInference.Grpc;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Gateway;
using ServingStack.Tests.Inference;
using ServingStack.Tests.Inference.TfServing;
using ServingStack.Tests.Kubernetes;

namespace ServingStack.Tests.Aspirate;

/// <summary>
/// aspire-manifest.json through the real aspirate and <c>kubectl kustomize</c>: the output passes the checks deploy/k8s
/// passes, and its pods, run here as processes with exactly the arguments and environment aspirate wrote (ports and
/// Service names mapped to loopback, each pod's /tmp its own folder), fetch their models and predict through the
/// gateway over REST and gRPC.
/// </summary>
public sealed partial class AspirateDeploymentTests(AspirateRun run) : IClassFixture<AspirateRun>
{
    private static readonly string[] Workloads = ["gateway", "inference", "inference-canary"];

    [GeneratedRegex(@"(?<=^|//)(?<host>[a-z0-9][a-z0-9-]*):(?<port>[0-9]+)")]
    private static partial Regex ServiceAddress();

    [Fact]
    public void Rendered_output_parses_strictly_and_passes_the_deploy_k8s_reference_checks()
    {
        Assert.Equal(Workloads, run.Objects.OfType<V1Deployment>().Select(d => d.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.Equal(Workloads, run.Objects.OfType<V1Service>().Select(s => s.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.Equal(AspirateRun.Namespace, Assert.Single(run.Objects.OfType<V1Namespace>()).Metadata.Name);
        Assert.All(run.Objects.OfType<IKubernetesObject<V1ObjectMeta>>().Where(o => o is not V1Namespace),
            o => Assert.Equal(AspirateRun.Namespace, o.Metadata.NamespaceProperty));
        var problems = ManifestReferences.All(run.Objects);
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Environment_is_complete_without_config_maps_of_ours_placeholders_or_random_values()
    {
        var gateway = Environment("gateway");
        // No route templates (the gateway derives its routes), discovery URLs with their scheme.
        Assert.DoesNotContain(gateway.Keys, k => k.StartsWith("ReverseProxy__Routes__", StringComparison.Ordinal));
        Assert.Equal("http://inference:8501", gateway["services__inference__rest__0"]);
        Assert.Equal("http://inference-canary:8500", gateway["services__inference-canary__grpc__0"]);
        foreach (var name in new[] { "inference", "inference-canary" })
        {
            var env = Environment(name);
            // The one parameter has the value given; the models and batching are in the environment, not in files.
            Assert.Equal(run.ModelSource, env["ModelSync__Source"]);
            Assert.Equal("/tmp/models/mnist", env["Serving__ModelConfigList__0__base_path"]);
            Assert.Equal("32", env["Serving__BatchingParameters__max_batch_size"]);
            Assert.DoesNotContain(Container(name).Args, a => a.Contains("/etc/", StringComparison.Ordinal));
        }

        // aspirate's own ASPNETCORE_URLS is there; the processes' own port settings must win over it (the next test).
        Assert.All(Workloads, name => Assert.Equal("http://+:8080;", Environment(name)["ASPNETCORE_URLS"]));
    }

    [Fact]
    public async Task Pods_run_as_local_processes_sync_their_models_and_predict_through_the_gateway_over_rest_and_grpc()
    {
        // Each container port gets a free loopback port; a Service's host:port maps to the port of the pod it selects.
        var localPorts = new Dictionary<(string Deployment, int Port), int>();
        foreach (var name in Workloads)
        {
            foreach (var port in Container(name).Ports)
            {
                localPorts[(name, port.ContainerPort)] = FreePort();
            }
        }

        var services = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var service in run.Objects.OfType<V1Service>())
        {
            var deployment = Assert.Single(run.Objects.OfType<V1Deployment>(), d => ManifestReferences.Matches(service.Spec.Selector, d.Spec.Template.Metadata.Labels));
            foreach (var port in service.Spec.Ports)
            {
                services[$"{service.Metadata.Name}:{port.Port}"] = localPorts[(deployment.Metadata.Name, int.Parse(port.TargetPort.Value, System.Globalization.CultureInfo.InvariantCulture))];
            }
        }

        var pods = new List<PodProcess>();
        var root = Directory.CreateTempSubdirectory("servingstack-aspirate-pods-").FullName;
        try
        {
            // Servers first (each fills its own /tmp/models from the source, then loads), then the gateway.
            foreach (var name in new[] { "inference", "inference-canary", "gateway" })
            {
                pods.Add(Start(name, Path.Combine(root, name), localPorts, services));
            }

            foreach (var name in new[] { "inference", "inference-canary" })
            {
                await ReadyAsync(pods, $"http://127.0.0.1:{services[$"{name}:8501"]}/ready", name);
                // The server fetched its models itself: complete versions in its own /tmp.
                Assert.True(File.Exists(Path.Combine(root, name, "tmp", "models", "mnist", "1", "model.onnx")), pods.Single(p => p.Name == name).Output);
            }

            using var rest = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{services["gateway:8080"]}"), Timeout = TimeSpan.FromSeconds(30) };
            var rows = TestData.MnistRows(3, seed: 21);
            await Eventually.TrueAsync(async () => (await GatewayClient.PredictAsync(rest, rows[0], ("X-Canary", "never"))).Status == 200,
                "the gateway to predict", TimeSpan.FromSeconds(60));

            // TF Serving REST: the split pins stable to version 1 (label stable), the canary to version 2.
            foreach (var (canary, target, seed) in new[] { ("never", "stable", DemoRepositoryTests.StableSeed), ("always", "canary", DemoRepositoryTests.CanarySeed) })
            {
                foreach (var row in rows)
                {
                    var (status, servedBy, prediction, text) = await GatewayClient.PredictAsync(rest, row, ("X-Canary", canary));
                    Assert.True(status == 200, text);
                    Assert.Equal(target, servedBy);
                    TfServingPredictTests.AssertClose(MlpWeights.Create(seed).Evaluate(row), prediction!);
                }
            }

            // Open Inference REST, pinned to the stable target's version.
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/mnist/infer"))
            {
                request.Headers.Add("X-Canary", "never");
                request.Content = new StringContent(new JsonObject
                {
                    ["inputs"] = new JsonArray(new JsonObject { ["name"] = "x", ["shape"] = new JsonArray(rows.Length, MlpWeights.InputSize), ["datatype"] = "FP32", ["data"] = Json.Matrix(rows) }),
                }.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
                using var response = await rest.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode, text);
                AssertRows(DemoRepositoryTests.StableSeed, rows, Json.Floats(JsonNode.Parse(text)!["outputs"]![0]!["data"]));
            }

            // Open Inference gRPC through the gateway's h2c port: the split picks the target's gRPC cluster.
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{services["gateway:8081"]}");
            var client = new GRPCInferenceService.GRPCInferenceServiceClient(channel);
            foreach (var (canary, seed) in new[] { ("never", DemoRepositoryTests.StableSeed), ("always", DemoRepositoryTests.CanarySeed) })
            {
                var infer = new ModelInferRequest { ModelName = "mnist" };
                var input = new ModelInferRequest.Types.InferInputTensor { Name = "x", Datatype = "FP32" };
                input.Shape.Add([rows.Length, MlpWeights.InputSize]);
                infer.Inputs.Add(input);
                infer.RawInputContents.Add(ByteString.CopyFrom(MemoryMarshal.AsBytes(rows.SelectMany(r => r).ToArray().AsSpan())));
                var reply = await client.ModelInferAsync(infer, new Metadata { { "x-canary", canary } });
                AssertRows(seed, rows, MemoryMarshal.Cast<byte, float>(Assert.Single(reply.RawOutputContents).Span).ToArray());
            }
        }
        finally
        {
            foreach (var pod in pods)
            {
                await pod.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private PodProcess Start(string name, string podRoot, Dictionary<(string Deployment, int Port), int> localPorts, Dictionary<string, int> services)
    {
        var container = Container(name);
        var own = container.Ports.Select(p => p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        var remapped = new HashSet<string>(StringComparer.Ordinal);
        string Map(string value)
        {
            // The container's own ports (Serving__RestApiPort=8501), other pods' Services (http://inference:8501), its /tmp.
            if (own.Contains(value))
            {
                remapped.Add(value);
                return localPorts[(name, int.Parse(value, System.Globalization.CultureInfo.InvariantCulture))].ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            value = ServiceAddress().Replace(value, m => services.TryGetValue(m.Value, out var port) ? $"127.0.0.1:{port}" : m.Value);
            return value.StartsWith("/tmp/", StringComparison.Ordinal) ? Path.Combine(podRoot, "tmp", value["/tmp/".Length..]) : value;
        }

        var environment = Environment(name).ToDictionary(e => e.Key, e => Map(e.Value), StringComparer.Ordinal);
        var args = (container.Args ?? []).Select(Map).ToList();
        Assert.True(own.SetEquals(remapped), $"{name}: container ports {string.Join(", ", own)}, but only {string.Join(", ", remapped)} are set in its environment");

        // Added for running beside other tests, not by aspirate: loopback only, plain console logs.
        environment.TryAdd("Serving__ListenAddress", "127.0.0.1");
        environment.TryAdd("Gateway__ListenAddress", "127.0.0.1");
        environment.TryAdd("Logging__Console__FormatterName", "simple");
        // A published gateway ignores override headers from anonymous callers; this test pins targets with them, as a
        // tester with the override permission would.
        environment.TryAdd("Gateway__Auth__AllowAnonymousOverrides", "true");
        Directory.CreateDirectory(Path.Combine(podRoot, "tmp"));
        return PodProcess.Start(name, BuiltProject.DllPath(Project(name)), args, environment);
    }

    private static async Task ReadyAsync(List<PodProcess> pods, string url, string name)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var pod = pods.Single(p => p.Name == name);
        await Eventually.TrueAsync(async () =>
        {
            Assert.False(pod.HasExited, $"{name} exited:\n{pod.Output}");
            try
            {
                using var response = await client.GetAsync(url);
                return response.StatusCode == HttpStatusCode.OK;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or still starting (the sync pass and the model load come first).
                return false;
            }
        }, $"{name} to be ready", TimeSpan.FromSeconds(120));
    }

    private static void AssertRows(int seed, float[][] rows, float[] values)
    {
        var weights = MlpWeights.Create(seed);
        Assert.Equal(rows.Length * MlpWeights.OutputSize, values.Length);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), values.AsSpan(r * MlpWeights.OutputSize, MlpWeights.OutputSize).ToArray());
        }
    }

    private V1Container Container(string deployment) =>
        Assert.Single(Assert.Single(run.Objects.OfType<V1Deployment>(), d => d.Metadata.Name == deployment).Spec.Template.Spec.Containers);

    /// <summary>The container's environment as the kubelet builds it: its ConfigMaps' data, then its own entries.</summary>
    private Dictionary<string, string> Environment(string deployment)
    {
        var container = Container(deployment);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            var configMap = Assert.Single(run.Objects.OfType<V1ConfigMap>(), c => c.Metadata.Name == source.ConfigMapRef.Name);
            foreach (var (key, value) in configMap.Data)
            {
                env[key] = value;
            }
        }

        foreach (var entry in container.Env ?? [])
        {
            env[entry.Name] = entry.Value;
        }

        return env;
    }

    /// <summary>The project behind a workload, from the manifest aspirate read.</summary>
    private string Project(string deployment)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(run.ManifestPath))!["resources"]![deployment]!;
        return Path.GetFileNameWithoutExtension(manifest["path"]!.GetValue<string>());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
//#endif
