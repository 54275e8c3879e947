using System.Globalization;
using k8s.Models;
using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// Deployments: an inference service (server + model sync) and the gateway. Rolling updates add a pod before removing
/// one (maxSurge 1, maxUnavailable 0), so a rollout never lowers serving capacity.
/// </summary>
internal static class DeploymentBuilder
{
    public const string ServerContainer = "server";
    public const string SyncContainer = "sync";
    public const string SyncInitContainer = "sync-init";
    public const string GatewayContainer = "gateway";
    public const string ModelsVolume = "models";
    public const string ConfigVolume = "config";

    /// <summary>The server's probes (README "Health probes") and the ASP.NET defaults of the sync and the gateway.</summary>
    public const string ServerLivePath = "/healthz";
    public const string ServerReadyPath = "/ready";
    public const string DefaultsLivePath = "/alive";
    public const string DefaultsHealthPath = "/health";

    /// <summary>The sync streams files to disk with bounded buffers; it needs little.</summary>
    public static readonly ComputeResources SyncCompute = new("50m", "64Mi", "500m", "256Mi");

    public const string GpuResource = "nvidia.com/gpu";

    public static V1Deployment Inference(InferenceWorkload workload, PublishedGraph graph)
    {
        var resource = workload.Resource;
        var labels = ServingLabels.For(workload.Name, ServingLabels.InferenceComponent, graph.Settings);
        var serverPorts = EndpointPort.Of(resource);
        var syncPort = SyncPort(workload);

        var server = new V1Container
        {
            Name = ServerContainer,
            Image = graph.ImageFor(resource),
            Args = ServerArgs(workload),
            Env = EnvVars(ServerEnvironment(workload)),
            Ports = serverPorts.Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.Port, Protocol = "TCP" }).ToList(),
            Resources = Resources(resource.Compute, resource.Gpus),
            // Liveness never depends on models: a slow or failed load must not restart the process.
            StartupProbe = HttpProbe(ServerLivePath, "rest", periodSeconds: 2, failureThreshold: 30),
            LivenessProbe = HttpProbe(ServerLivePath, "rest", periodSeconds: 10, failureThreshold: 3),
            // Readiness is "every configured model has an AVAILABLE version": no traffic before the model is warm.
            ReadinessProbe = HttpProbe(ServerReadyPath, "rest", periodSeconds: 5, failureThreshold: 2),
            Lifecycle = PreStopSleep(),
            SecurityContext = PodSecurity.Container(),
            VolumeMounts =
            [
                new V1VolumeMount { Name = ModelsVolume, MountPath = ServingPaths.ModelStore, ReadOnlyProperty = true },
                // A directory mount (not subPath), so ConfigMap edits reach the server's config poll.
                new V1VolumeMount { Name = ConfigVolume, MountPath = ServingPaths.ConfigFolder, ReadOnlyProperty = true },
                PodSecurity.TmpMount("server-tmp"),
            ],
        };

        var pod = new V1PodSpec
        {
            ServiceAccountName = PublishedGraph.InferenceServiceAccount,
            AutomountServiceAccountToken = false,
            SecurityContext = PodSecurity.Pod(),
            TerminationGracePeriodSeconds = DrainTimings.ServerTerminationGraceSeconds,
            InitContainers =
            [
                // First: one complete pass, so the server starts with its models on disk (exit 0 only when complete;
                // anything else and the kubelet retries it, and the pod never starts on an empty store).
                SyncContainerSpec(workload, graph, SyncInitContainer, ["--once"], ports: null, "sync-init-tmp"),
                // Then the polling sync as a native sidecar (an init container that keeps running): it is up before the
                // server starts and is stopped only after the server has drained.
                SyncContainerSpec(workload, graph, SyncContainer, args: null, ports: [syncPort], "sync-tmp", sidecar: true),
            ],
            Containers = [server],
            Volumes =
            [
                new V1Volume { Name = ModelsVolume, EmptyDir = new V1EmptyDirVolumeSource() },
                new V1Volume { Name = ConfigVolume, ConfigMap = new V1ConfigMapVolumeSource { Name = workload.ConfigMapName } },
                PodSecurity.TmpVolume("server-tmp"),
                PodSecurity.TmpVolume("sync-tmp"),
                PodSecurity.TmpVolume("sync-init-tmp"),
            ],
        };

        if (resource.Gpus > 0)
        {
            // GPU nodes are usually tainted so only pods that ask for a GPU land there.
            pod.Tolerations = [new V1Toleration { Key = GpuResource, OperatorProperty = "Exists", Effect = "NoSchedule" }];
        }

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = ObjectMetadata.Create(workload.Name, graph.Namespace, labels),
            Spec = new V1DeploymentSpec
            {
                // With an HPA the replica count is its to manage: a count here would reset it on every apply.
                Replicas = resource.Autoscaling is null ? resource.Replicas() : null,
                Selector = new V1LabelSelector { MatchLabels = ServingLabels.Selector(workload.Name) },
                Strategy = RollingUpdate(),
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = pod },
            },
        };
    }

    public static V1Deployment Gateway(GatewayWorkload workload, PublishedGraph graph)
    {
        var labels = ServingLabels.For(workload.Name, ServingLabels.GatewayComponent, graph.Settings);
        var environment = EnvVars(GatewayEnvironment(workload));
        var container = new V1Container
        {
            Name = GatewayContainer,
            Image = graph.ImageFor(workload.Resource),
            Env = environment,
            // JWT signing key, admin key, API keys: from a Secret the operator creates; optional, so an open gateway runs without it.
            EnvFrom = [new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = graph.Settings.GatewaySecret, Optional = true } }],
            Ports = EndpointPort.Of(workload.Resource).Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.Port, Protocol = "TCP" }).ToList(),
            Resources = Resources(workload.Resource.Compute, gpus: 0),
            StartupProbe = HttpProbe(DefaultsLivePath, "rest", periodSeconds: 2, failureThreshold: 15),
            LivenessProbe = HttpProbe(DefaultsLivePath, "rest", periodSeconds: 10, failureThreshold: 3),
            ReadinessProbe = HttpProbe(DefaultsHealthPath, "rest", periodSeconds: 5, failureThreshold: 2),
            Lifecycle = PreStopSleep(),
            SecurityContext = PodSecurity.Container(),
            VolumeMounts =
            [
                new V1VolumeMount { Name = ConfigVolume, MountPath = ServingPaths.ConfigFolder, ReadOnlyProperty = true },
                PodSecurity.TmpMount("tmp"),
            ],
        };

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = ObjectMetadata.Create(workload.Name, graph.Namespace, labels),
            Spec = new V1DeploymentSpec
            {
                Replicas = workload.Resource.Replicas,
                Selector = new V1LabelSelector { MatchLabels = ServingLabels.Selector(workload.Name) },
                Strategy = RollingUpdate(),
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        ServiceAccountName = PublishedGraph.GatewayServiceAccount,
                        AutomountServiceAccountToken = false,
                        SecurityContext = PodSecurity.Pod(),
                        TerminationGracePeriodSeconds = DrainTimings.GatewayTerminationGraceSeconds,
                        Containers = [container],
                        Volumes =
                        [
                            new V1Volume { Name = ConfigVolume, ConfigMap = new V1ConfigMapVolumeSource { Name = workload.ConfigMapName } },
                            PodSecurity.TmpVolume("tmp"),
                        ],
                    },
                },
            },
        };
    }

    /// <summary>
    /// The gateway's environment from the graph, minus its routing keys: those live in the mounted gateway.json
    /// (one place, reloaded at run time), and the file's values would win over the environment anyway.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> GatewayEnvironment(GatewayWorkload workload)
    {
        var routing = workload.Resource.RoutingConfiguration().Keys
            .Select(k => k.Replace(":", "__", StringComparison.Ordinal))
            .ToHashSet(StringComparer.Ordinal);
        var environment = workload.Process.Environment.Where(e => !routing.Contains(e.Key)).ToList();
        environment.Add(new("SERVICE_CONFIG_FILES", $"{ServingPaths.ConfigFolder}/{ServingPaths.GatewayConfigFileName}"));
        // A ConfigMap update swaps a symlink, which inotify does not report; polling sees it.
        environment.Add(new("DOTNET_USE_POLLING_FILE_WATCHER", "true"));
        environment.Add(new("DOTNET_shutdownTimeoutSeconds", DrainTimings.GatewayShutdownSeconds.ToString(CultureInfo.InvariantCulture)));
        return environment;
    }

    /// <summary>
    /// The graph's server arguments plus the files of the service's ConfigMap (re-read every 30 s, so an edit needs no
    /// restart) and the drain flags that match the pod's shutdown timeline.
    /// </summary>
    public static List<string> ServerArgs(InferenceWorkload workload)
    {
        var args = workload.Server.Args.ToList();
        args.Add($"--model_config_file={ServingPaths.ConfigFolder}/{ServingPaths.ModelConfigFileName}");
        args.Add($"--model_config_file_poll_wait_seconds={ModelConfigPollSeconds}");
        if (workload.Resource.Batching is not null)
        {
            args.Add($"--batching_parameters_file={ServingPaths.ConfigFolder}/{ServingPaths.BatchingConfigFileName}");
        }

        AddUnlessSet("--drain_delay_seconds", DrainTimings.ServerDrainDelaySeconds);
        AddUnlessSet("--shutdown_grace_seconds", DrainTimings.ServerShutdownGraceSeconds);
        return args;

        void AddUnlessSet(string flag, int value)
        {
            if (!args.Any(a => a == flag || a.StartsWith(flag + "=", StringComparison.Ordinal)))
            {
                args.Add(string.Create(CultureInfo.InvariantCulture, $"{flag}={value}"));
            }
        }
    }

    /// <summary>
    /// The graph's server environment minus what the pod provides otherwise: the model config and batching parameters
    /// (the ConfigMap's files) and the sync settings for a pass at start (the sync init container and sidecar).
    /// </summary>
    public static List<KeyValuePair<string, string>> ServerEnvironment(InferenceWorkload workload) =>
        workload.Server.Environment.Where(e => !s_replacedServerKeys.Any(p => e.Key.StartsWith(p, StringComparison.Ordinal))).ToList();

    private static readonly string[] s_replacedServerKeys = ["Serving__ModelConfigList__", "Serving__BatchingParameters__", "ModelSync__"];

    /// <summary>How often the server re-reads the mounted model config (a ConfigMap update lands within about a minute).</summary>
    public const int ModelConfigPollSeconds = 30;

    public static EndpointPort SyncPort(InferenceWorkload workload) =>
        EndpointPort.Of(workload.Sync, prefix: "sync-").Single();

    private static V1Container SyncContainerSpec(InferenceWorkload workload, PublishedGraph graph, string name, IList<string>? args, IList<EndpointPort>? ports, string tmpVolume, bool sidecar = false)
    {
        var env = EnvVars(workload.SyncProcess.Environment);
        if (workload.Sync.CredentialsSecret is { } secret)
        {
            // The keys the AWS SDK's default chain reads; the Secret is the operator's, referenced by name only.
            foreach (var key in new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY" })
            {
                env.Add(new V1EnvVar { Name = key, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } } });
            }
        }

        var container = new V1Container
        {
            Name = name,
            Image = graph.ImageFor(workload.Sync),
            Args = args,
            Env = env,
            Ports = ports?.Select(p => new V1ContainerPort { Name = p.Name, ContainerPort = p.Port, Protocol = "TCP" }).ToList(),
            Resources = Resources(SyncCompute, gpus: 0),
            SecurityContext = PodSecurity.Container(),
            VolumeMounts =
            [
                new V1VolumeMount { Name = ModelsVolume, MountPath = ServingPaths.ModelStore },
                PodSecurity.TmpMount(tmpVolume),
            ],
        };

        if (sidecar)
        {
            container.RestartPolicy = "Always";
            var port = ports![0].Name;
            // Started means listening: the server starts only after that. No readiness probe: the sync's /ready turns
            // 503 until its own first pass completes, and a flaky source must not take serving pods out of the Service
            // (the versions already published keep serving; alerts watch the sync's metrics instead).
            container.StartupProbe = HttpProbe(DefaultsLivePath, port, periodSeconds: 2, failureThreshold: 30);
            container.LivenessProbe = HttpProbe(DefaultsLivePath, port, periodSeconds: 10, failureThreshold: 3);
        }

        return container;
    }

    private static V1DeploymentStrategy RollingUpdate() => new()
    {
        Type = "RollingUpdate",
        RollingUpdate = new V1RollingUpdateDeployment { MaxSurge = 1, MaxUnavailable = 0 },
    };

    /// <summary>The kubelet's own sleep (no shell needed in the image): proxies drop the pod before SIGTERM arrives.</summary>
    private static V1Lifecycle PreStopSleep() => new()
    {
        PreStop = new V1LifecycleHandler { Sleep = new V1SleepAction { Seconds = DrainTimings.PreStopSleepSeconds } },
    };

    private static V1Probe HttpProbe(string path, string port, int periodSeconds, int failureThreshold) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port },
        PeriodSeconds = periodSeconds,
        TimeoutSeconds = 2,
        FailureThreshold = failureThreshold,
    };

    public static V1ResourceRequirements Resources(ComputeResources compute, int gpus)
    {
        var requests = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal)
        {
            ["cpu"] = new(compute.CpuRequest),
            ["memory"] = new(compute.MemoryRequest),
        };
        var limits = new SortedDictionary<string, ResourceQuantity>(StringComparer.Ordinal)
        {
            ["cpu"] = new(compute.CpuLimit),
            ["memory"] = new(compute.MemoryLimit),
        };
        if (gpus > 0)
        {
            // Extended resources are whole devices, never shared or overcommitted: request equals limit.
            var count = gpus.ToString(CultureInfo.InvariantCulture);
            requests[GpuResource] = new(count);
            limits[GpuResource] = new(count);
        }

        return new V1ResourceRequirements { Requests = requests, Limits = limits };
    }

    private static List<V1EnvVar> EnvVars(IEnumerable<KeyValuePair<string, string>> environment) =>
        environment.Select(e => new V1EnvVar { Name = e.Key, Value = e.Value }).ToList();
}
