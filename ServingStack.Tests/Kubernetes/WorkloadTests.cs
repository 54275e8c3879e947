using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using Microsoft.Extensions.Configuration;
using ServingStack.AppHost.Kubernetes;
using ServingStack.Inference.Batching;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Hosting;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Kubernetes;

/// <summary>What the pods do: sync before serve, drain on shutdown, security, scaling, and the graph's own settings.</summary>
[Collection(KubernetesManifestsCollection.Name)]
public sealed class WorkloadTests(PublishedManifests published)
{
    private static readonly string[] InferenceServices = ["inference", "inference-canary"];

    [Theory]
    [InlineData("inference")]
    [InlineData("inference-canary")]
    public void Inference_pod_syncs_once_before_the_server_and_keeps_syncing_as_a_native_sidecar(string name)
    {
        var pod = published.Single<V1Deployment>(name).Spec.Template.Spec;
        Assert.Equal(["sync-init", "sync"], pod.InitContainers.Select(c => c.Name));
        var once = pod.InitContainers[0];
        var sidecar = pod.InitContainers[1];
        Assert.Equal(["--once"], once.Args);
        Assert.Null(once.RestartPolicy);
        Assert.Equal("Always", sidecar.RestartPolicy);
        Assert.Null(sidecar.Args);
        Assert.NotNull(sidecar.StartupProbe);
        // A readiness probe on the sidecar would take serving pods out of the Service whenever the source is flaky.
        Assert.Null(sidecar.ReadinessProbe);

        // Both write the emptyDir the server only reads, at the path the model config's base paths use.
        var store = Assert.Single(pod.Volumes, v => v.EmptyDir is not null && v.Name == "models");
        Assert.All([once, sidecar], c => Assert.Contains(c.VolumeMounts, m => m.Name == store.Name && m.MountPath == "/models" && m.ReadOnlyProperty != true));
        var server = Assert.Single(pod.Containers);
        Assert.Contains(server.VolumeMounts, m => m.Name == store.Name && m.MountPath == "/models" && m.ReadOnlyProperty == true);
        Assert.All([once, sidecar], c => Assert.Contains(c.Env, e => e.Name == "ModelSync__Target" && e.Value == "/models"));
        Assert.All([once, sidecar], c => Assert.Contains(c.Env, e => e.Name == "ModelSync__Source" && e.Value == "s3://models"));
    }

    [Theory]
    [InlineData("inference")]
    [InlineData("inference-canary")]
    public void Server_turns_unready_then_drains_within_the_grace_period(string name)
    {
        var pod = published.Single<V1Deployment>(name).Spec.Template.Spec;
        var server = Assert.Single(pod.Containers);
        var preStop = server.Lifecycle.PreStop.Sleep.Seconds;
        int Flag(string flag) => int.Parse(Assert.Single(server.Args, a => a.StartsWith(flag + "=", StringComparison.Ordinal))[(flag.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var drain = Flag("--drain_delay_seconds");
        var grace = Flag("--shutdown_grace_seconds");
        Assert.True(preStop > 0 && drain > 0 && grace > 0);
        // The kubelet's clock starts at preStop: SIGKILL must come after preStop + drain + in-flight work.
        Assert.True(pod.TerminationGracePeriodSeconds > preStop + drain + grace, $"grace {pod.TerminationGracePeriodSeconds} <= {preStop} + {drain} + {grace}");
        Assert.Equal("/ready", server.ReadinessProbe.HttpGet.Path);
        Assert.Equal("/healthz", server.LivenessProbe.HttpGet.Path);
        Assert.Equal("/healthz", server.StartupProbe.HttpGet.Path);
    }

    [Fact]
    public void Server_arguments_and_environment_are_the_aspire_manifests_with_bindings_resolved()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(BuiltProject.RepositoryRoot(), "aspire-manifest.json")))!["resources"]!;
        foreach (var name in InferenceServices)
        {
            var server = published.Single<V1Deployment>(name).Spec.Template.Spec.Containers[0];
            var args = manifest[name]!["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
            // One source: the graph's arguments, in order, followed only by the ConfigMap's files and the pod's drain timings.
            Assert.Equal(args, server.Args.Take(args.Count));
            Assert.Equal(
                ["--model_config_file=/etc/servingstack/models.config", "--model_config_file_poll_wait_seconds=30",
                 "--batching_parameters_file=/etc/servingstack/batching.config", "--drain_delay_seconds=5", "--shutdown_grace_seconds=20"],
                server.Args.Skip(args.Count));
            // The manifest's environment less what the pod provides otherwise: the models and batching (the ConfigMap)
            // and the sync's settings for a pass at start (the init container and the sidecar do that here).
            var env = manifest[name]!["env"]!.AsObject();
            string[] replaced = ["Serving__ModelConfigList__", "Serving__BatchingParameters__", "ModelSync__"];
            Assert.Contains(env, e => e.Key.StartsWith(replaced[0], StringComparison.Ordinal));
            Assert.Contains(env, e => e.Key.StartsWith(replaced[2], StringComparison.Ordinal));
            Assert.Equal(env.Select(e => e.Key).Where(k => !replaced.Any(r => k.StartsWith(r, StringComparison.Ordinal))), server.Env.Select(e => e.Name));
            Assert.Equal("8501", server.Env.Single(e => e.Name == "Serving__RestApiPort").Value);
            Assert.Equal("8500", server.Env.Single(e => e.Name == "Serving__Port").Value);
        }

        var gateway = published.Single<V1Deployment>("gateway").Spec.Template.Spec.Containers[0];
        Assert.Equal("http://inference:8501", gateway.Env.Single(e => e.Name == "services__inference__rest__0").Value);
        Assert.Equal("http://inference-canary:8500", gateway.Env.Single(e => e.Name == "services__inference-canary__grpc__0").Value);
        Assert.DoesNotContain(gateway.Env, e => e.Value?.Contains('{', StringComparison.Ordinal) == true);
    }

    [Fact]
    public void Inference_services_are_headless_and_the_gateway_resolves_each_of_their_pods_through_them()
    {
        // Headless: the Service's name resolves to every ready pod, which the gateway turns into one destination each.
        Assert.All(InferenceServices, name => Assert.Equal("None", published.Single<V1Service>(name).Spec.ClusterIP));
        // The gateway itself keeps a virtual IP: the Ingress and in-cluster clients reach any gateway replica through it.
        Assert.Null(published.Single<V1Service>("gateway").Spec.ClusterIP);

        var gateway = published.Single<V1Deployment>("gateway").Spec.Template.Spec.Containers[0];
        var json = JsonNode.Parse(published.Single<V1ConfigMap>("gateway-config").Data["gateway.json"])!;
        // No routes: the gateway derives them from the splits; no discovery settings: per-pod resolution is its default.
        Assert.Null(json["ReverseProxy"]!["Routes"]);
        Assert.DoesNotContain(gateway.Env, e => e.Name.StartsWith("Gateway__Discovery__", StringComparison.Ordinal));
        foreach (var name in InferenceServices)
        {
            foreach (var (endpoint, cluster, port) in new[] { ("rest", name, 8501), ("grpc", $"{name}-grpc", 8500) })
            {
                Assert.Equal($"http://_{endpoint}.{name}", json["ReverseProxy"]!["Clusters"]![cluster]!["Destinations"]![name]!["Address"]!.GetValue<string>());
                Assert.Equal($"http://{name}:{port}", Assert.Single(gateway.Env, e => e.Name == $"services__{name}__{endpoint}__0").Value);
                Assert.Contains(published.Single<V1Service>(name).Spec.Ports, p => p.Port == port && p.TargetPort.Value == endpoint);
            }
        }
    }

    [Theory]
    [InlineData("inference")]
    [InlineData("inference-canary")]
    public void Model_config_and_batching_in_the_config_map_are_accepted_by_the_servers_own_readers(string name)
    {
        var data = published.Single<V1ConfigMap>($"{name}-config").Data;
        var folder = Directory.CreateTempSubdirectory("servingstack-k8s-config-").FullName;
        try
        {
            foreach (var (key, text) in data)
            {
                File.WriteAllText(Path.Combine(folder, key), text);
            }

            var config = new ModelServerConfig();
            ModelConfigFileReader.Read(Path.Combine(folder, "models.config"), new ExecutionSettings(), new BatchingOptions(), config);
            var validation = new ModelServerConfigValidator().Validate(null, config);
            Assert.True(validation.Succeeded, validation.FailureMessage);
            var model = Assert.Single(config.Models);
            Assert.Equal("mnist", model.Name);
            Assert.Equal("/models/mnist", model.BasePath);
            Assert.Equal([name == "inference" ? 1L : 2L], model.VersionPolicy.Versions);

            var batching = new BatchingOptions();
            var errors = new List<string>();
            BatchingOptionsReader.ReadFile(Path.Combine(folder, "batching.config"), batching, errors);
            Assert.Empty(errors);
            Assert.Equal(32, batching.MaxBatchSize);
            Assert.Equal(100, batching.MaxEnqueuedBatches);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        // And every argument is a flag the server knows.
        var server = published.Single<V1Deployment>(name).Spec.Template.Spec.Containers[0];
        Assert.All(server.Args, a => Assert.Contains(a.Split('=')[0], ServingCommandLine.SwitchMappings.Keys));
    }

    [Fact]
    public void Gateway_config_map_is_the_graphs_routing_configuration_and_replaces_it_in_the_environment()
    {
        var json = published.Single<V1ConfigMap>("gateway-config").Data["gateway.json"];
        var fromFile = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build()
            .AsEnumerable().Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!, StringComparer.OrdinalIgnoreCase);

        // The manifest carries the same routing as environment variables (the graph's one RoutingConfiguration()).
        var manifestEnv = JsonNode.Parse(File.ReadAllText(Path.Combine(BuiltProject.RepositoryRoot(), "aspire-manifest.json")))!["resources"]!["gateway"]!["env"]!.AsObject();
        var routing = manifestEnv.Where(e => e.Key.StartsWith("ReverseProxy__", StringComparison.Ordinal) || e.Key.StartsWith("Gateway__Splits__", StringComparison.Ordinal))
            .ToDictionary(e => e.Key.Replace("__", ":", StringComparison.Ordinal), e => e.Value!.GetValue<string>(), StringComparer.OrdinalIgnoreCase);
        Assert.NotEmpty(routing);
        Assert.Equal(routing.OrderBy(e => e.Key, StringComparer.OrdinalIgnoreCase), fromFile.OrderBy(e => e.Key, StringComparer.OrdinalIgnoreCase));
        Assert.Equal("10", fromFile["Gateway:Splits:mnist:Targets:1:Weight"]);

        var gateway = published.Single<V1Deployment>("gateway").Spec.Template.Spec.Containers[0];
        Assert.DoesNotContain(gateway.Env, e => e.Name.StartsWith("ReverseProxy__", StringComparison.Ordinal) || e.Name.StartsWith("Gateway__Splits__", StringComparison.Ordinal));
        Assert.Contains(gateway.Env, e => e.Name == "SERVICE_CONFIG_FILES" && e.Value == "/etc/servingstack/gateway.json");
        Assert.Contains(gateway.Env, e => e.Name == "DOTNET_USE_POLLING_FILE_WATCHER" && e.Value == "true");
        // A directory mount: a subPath mount would never see the ConfigMap change.
        Assert.All(gateway.VolumeMounts, m => Assert.Null(m.SubPath));
    }

    [Fact]
    public void Pods_meet_the_restricted_pod_security_standard()
    {
        Assert.Equal("restricted", published.Single<V1Namespace>("servingstack").Metadata.Labels["pod-security.kubernetes.io/enforce"]);
        foreach (var deployment in published.All<V1Deployment>())
        {
            var pod = deployment.Spec.Template.Spec;
            Assert.True(pod.SecurityContext.RunAsNonRoot);
            Assert.NotEqual(0, pod.SecurityContext.RunAsUser);
            Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
            Assert.False(pod.AutomountServiceAccountToken);
            foreach (var container in ManifestReferences.AllContainers(pod))
            {
                var where = $"{deployment.Metadata.Name}/{container.Name}";
                Assert.True(container.SecurityContext.ReadOnlyRootFilesystem, where);
                Assert.False(container.SecurityContext.AllowPrivilegeEscalation, where);
                Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
                Assert.Null(container.SecurityContext.Capabilities.Add);
                // A read-only root still needs a writable /tmp (.NET's diagnostics socket).
                Assert.Contains(container.VolumeMounts, m => m.MountPath == "/tmp");
            }
        }
    }

    [Fact]
    public void Replicas_autoscaling_and_rollouts_follow_the_graph()
    {
        // inference: WithReplicas(2).WithAutoscaling(2, 8): the HPA owns the count, so the Deployment leaves it unset.
        var stable = published.Single<V1Deployment>("inference");
        Assert.Null(stable.Spec.Replicas);
        var hpa = published.Single<V2HorizontalPodAutoscaler>("inference");
        Assert.Equal(2, hpa.Spec.MinReplicas);
        Assert.Equal(8, hpa.Spec.MaxReplicas);
        Assert.Equal(["cpu", "memory"], hpa.Spec.Metrics.Where(m => m.Type == "Resource").Select(m => m.Resource.Name));
        Assert.Equal(70, hpa.Spec.Metrics.Single(m => m.Resource?.Name == "cpu").Resource.Target.AverageUtilization);
        var pods = Assert.Single(hpa.Spec.Metrics, m => m.Type == "Pods").Pods;
        Assert.Equal("servingstack_requests_per_second", pods.Metric.Name);
        Assert.Equal("200", pods.Target.AverageValue.ToString());

        Assert.Equal(1, published.Single<V1Deployment>("inference-canary").Spec.Replicas);
        Assert.DoesNotContain(published.All<V2HorizontalPodAutoscaler>(), h => h.Metadata.Name == "inference-canary");
        Assert.Equal(2, published.Single<V1Deployment>("gateway").Spec.Replicas);

        foreach (var deployment in published.All<V1Deployment>())
        {
            Assert.Equal("RollingUpdate", deployment.Spec.Strategy.Type);
            Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxUnavailable.Value);
            Assert.Equal("1", deployment.Spec.Strategy.RollingUpdate.MaxSurge.Value);
            // One eviction at a time; never minAvailable, which would pin a one-replica canary's node.
            var pdb = published.Single<V1PodDisruptionBudget>(deployment.Metadata.Name);
            Assert.Equal("1", pdb.Spec.MaxUnavailable.Value);
            Assert.Null(pdb.Spec.MinAvailable);
        }
    }

    [Fact]
    public void Compute_resources_come_from_the_graph_and_cpu_services_ask_for_no_gpu()
    {
        var server = published.Single<V1Deployment>("inference").Spec.Template.Spec.Containers[0];
        Assert.Equal("500m", server.Resources.Requests["cpu"].ToString());
        Assert.Equal("512Mi", server.Resources.Requests["memory"].ToString());
        Assert.Equal("2", server.Resources.Limits["cpu"].ToString());
        Assert.Equal("2Gi", server.Resources.Limits["memory"].ToString());
        Assert.DoesNotContain("nvidia.com/gpu", server.Resources.Limits.Keys);
        Assert.Contains("--execution_provider=cpu", server.Args);
        Assert.Null(published.Single<V1Deployment>("inference").Spec.Template.Spec.Tolerations);
        var quota = published.Single<V1ResourceQuota>("servingstack").Spec.Hard;
        Assert.Equal("0", quota["requests.nvidia.com/gpu"].ToString());
    }

    [Fact]
    public void Resource_quota_admits_every_deployment_at_full_scale_during_a_rollout()
    {
        var quota = published.Single<V1ResourceQuota>("servingstack").Spec.Hard;
        decimal cpuRequests = 0, memoryLimits = 0;
        var pods = 0;
        foreach (var deployment in published.All<V1Deployment>())
        {
            var max = published.All<V2HorizontalPodAutoscaler>().SingleOrDefault(h => h.Spec.ScaleTargetRef.Name == deployment.Metadata.Name)?.Spec.MaxReplicas
                ?? deployment.Spec.Replicas!.Value;
            var count = max + 1;
            var containers = ManifestReferences.AllContainers(deployment.Spec.Template.Spec).ToList();
            cpuRequests += count * containers.Sum(c => c.Resources.Requests["cpu"].ToDecimal());
            memoryLimits += count * containers.Sum(c => c.Resources.Limits["memory"].ToDecimal());
            pods += count;
        }

        Assert.True(quota["requests.cpu"].ToDecimal() >= cpuRequests, $"{quota["requests.cpu"]} < {cpuRequests}");
        Assert.True(quota["limits.memory"].ToDecimal() >= memoryLimits, $"{quota["limits.memory"]} < {memoryLimits}");
        Assert.Equal(pods.ToString(System.Globalization.CultureInfo.InvariantCulture), quota["pods"].ToString());
    }

    [Fact]
    public void Network_policy_admits_inference_traffic_only_from_the_gateway_and_scrapes_from_monitoring()
    {
        var policy = published.Single<V1NetworkPolicy>("inference-from-gateway");
        Assert.Equal(["Ingress"], policy.Spec.PolicyTypes);
        var selected = published.All<V1Deployment>().Where(d => ManifestReferences.Matches(policy.Spec.PodSelector, d.Spec.Template.Metadata.Labels)).Select(d => d.Metadata.Name);
        Assert.Equal(InferenceServices, selected.Order(StringComparer.Ordinal));

        var fromPods = Assert.Single(policy.Spec.Ingress, r => r.FromProperty.Any(p => p.PodSelector is not null));
        var peers = published.All<V1Deployment>().Where(d => ManifestReferences.Matches(Assert.Single(fromPods.FromProperty).PodSelector, d.Spec.Template.Metadata.Labels)).Select(d => d.Metadata.Name);
        Assert.Equal(["gateway"], peers);
        Assert.Equal(["8500", "8501"], fromPods.Ports.Select(p => p.Port.Value));

        var fromMonitoring = Assert.Single(policy.Spec.Ingress, r => r.FromProperty.Any(p => p.NamespaceSelector is not null));
        Assert.Equal("monitoring", Assert.Single(fromMonitoring.FromProperty).NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]);
        Assert.Equal(["8090", "8501"], fromMonitoring.Ports.Select(p => p.Port.Value));
    }

    [Fact]
    public void Ingress_terminates_tls_for_the_parameter_host_and_routes_rest_and_grpc_to_the_gateway()
    {
        var rest = published.Single<V1Ingress>("gateway");
        var grpc = published.Single<V1Ingress>("gateway-grpc");
        Assert.All([rest, grpc], i =>
        {
            Assert.Equal("serving.example.com", Assert.Single(Assert.Single(i.Spec.Tls).Hosts));
            Assert.Equal("serving.example.com", Assert.Single(i.Spec.Rules).Host);
            Assert.Equal("gateway", Assert.Single(i.Spec.Rules[0].Http.Paths).Backend.Service.Name);
        });
        Assert.Equal("rest", rest.Spec.Rules[0].Http.Paths[0].Backend.Service.Port.Name);
        Assert.Equal("grpc", grpc.Spec.Rules[0].Http.Paths[0].Backend.Service.Port.Name);
        Assert.Equal("GRPC", grpc.Metadata.Annotations["nginx.ingress.kubernetes.io/backend-protocol"]);
    }

    [Fact]
    public void Edge_variant_splits_the_model_path_with_the_graphs_weight()
    {
        var ingresses = published.InFolder<V1Ingress>(KubernetesPublisher.EdgeFolder).ToList();
        var stable = Assert.Single(ingresses, i => !i.Metadata.Annotations.ContainsKey("nginx.ingress.kubernetes.io/canary"));
        var canary = Assert.Single(ingresses, i => i.Metadata.Annotations.ContainsKey("nginx.ingress.kubernetes.io/canary"));
        Assert.Equal("inference", stable.Spec.Rules[0].Http.Paths[0].Backend.Service.Name);
        Assert.Equal("inference-canary", canary.Spec.Rules[0].Http.Paths[0].Backend.Service.Name);
        Assert.Equal("10", canary.Metadata.Annotations["nginx.ingress.kubernetes.io/canary-weight"]);
        Assert.Equal("X-Canary", canary.Metadata.Annotations["nginx.ingress.kubernetes.io/canary-by-header"]);
        // ingress-nginx needs the canary's host and path to equal its main Ingress's.
        Assert.Equal(stable.Spec.Rules[0].Host, canary.Spec.Rules[0].Host);
        Assert.Equal(stable.Spec.Rules[0].Http.Paths[0].Path, canary.Spec.Rules[0].Http.Paths[0].Path);
    }
}
