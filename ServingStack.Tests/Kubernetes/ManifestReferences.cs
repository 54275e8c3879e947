using k8s.Models;
using ServingStack.AppHost.Kubernetes.Crds;

namespace ServingStack.Tests.Kubernetes;

/// <summary>
/// Cross-reference checks over a set of parsed objects, each returning every problem it finds (not just the first),
/// named by object, so a failing test says what is dangling.
/// </summary>
public static class ManifestReferences
{
    public static List<string> All(IReadOnlyList<object> objects) =>
    [
        .. ServiceSelectors(objects), .. Ports(objects), .. Volumes(objects), .. ConfigMapKeys(objects), .. ScaleTargets(objects),
        .. NetworkPolicies(objects), .. ServiceMonitors(objects), .. Ingresses(objects), .. Rbac(objects), .. Environment(objects),
    ];

    /// <summary>Every Service selects the pods of exactly one Deployment.</summary>
    public static List<string> ServiceSelectors(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        foreach (var service in objects.OfType<V1Service>())
        {
            var count = Deployments(objects).Count(d => Matches(service.Spec.Selector, d.Spec.Template.Metadata.Labels));
            if (count != 1)
            {
                problems.Add($"Service {service.Metadata.Name}: its selector matches {count} Deployments' pods, not 1.");
            }
        }

        return problems;
    }

    /// <summary>Service target ports and probe ports name (or number) ports their containers declare.</summary>
    public static List<string> Ports(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        foreach (var service in objects.OfType<V1Service>())
        {
            foreach (var deployment in Deployments(objects).Where(d => Matches(service.Spec.Selector, d.Spec.Template.Metadata.Labels)))
            {
                var ports = RunningContainers(deployment.Spec.Template.Spec).SelectMany(c => c.Ports ?? []).ToList();
                foreach (var port in service.Spec.Ports)
                {
                    if (!ports.Any(p => Is(port.TargetPort, p)))
                    {
                        problems.Add($"Service {service.Metadata.Name} port {port.Name}: target port {port.TargetPort.Value} is not a container port of Deployment {deployment.Metadata.Name}.");
                    }
                }
            }
        }

        foreach (var deployment in Deployments(objects))
        {
            foreach (var container in AllContainers(deployment.Spec.Template.Spec))
            {
                foreach (var (kind, probe) in new[] { ("startup", container.StartupProbe), ("liveness", container.LivenessProbe), ("readiness", container.ReadinessProbe) })
                {
                    if (probe?.HttpGet is { } get && !(container.Ports ?? []).Any(p => Is(get.Port, p)))
                    {
                        problems.Add($"Deployment {deployment.Metadata.Name} container {container.Name}: {kind} probe port {get.Port.Value} is not one of its ports.");
                    }
                }
            }
        }

        return problems;
    }

    /// <summary>Mounts name volumes of their pod, every volume is mounted, and ConfigMap volumes name existing ConfigMaps.</summary>
    public static List<string> Volumes(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        var configMaps = objects.OfType<V1ConfigMap>().Select(c => c.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var deployment in Deployments(objects))
        {
            var pod = deployment.Spec.Template.Spec;
            var volumes = (pod.Volumes ?? []).Select(v => v.Name).ToList();
            var mounted = new HashSet<string>(StringComparer.Ordinal);
            foreach (var container in AllContainers(pod))
            {
                foreach (var mount in container.VolumeMounts ?? [])
                {
                    mounted.Add(mount.Name);
                    if (!volumes.Contains(mount.Name))
                    {
                        problems.Add($"Deployment {deployment.Metadata.Name} container {container.Name}: mount {mount.MountPath} names volume '{mount.Name}', which the pod does not have.");
                    }
                }
            }

            foreach (var volume in pod.Volumes ?? [])
            {
                if (!mounted.Contains(volume.Name))
                {
                    problems.Add($"Deployment {deployment.Metadata.Name}: volume '{volume.Name}' is never mounted.");
                }

                if (volume.ConfigMap is { } source && !configMaps.Contains(source.Name))
                {
                    problems.Add($"Deployment {deployment.Metadata.Name}: volume '{volume.Name}' uses ConfigMap '{source.Name}', which is not published.");
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// A file a container names under a mounted ConfigMap's folder (in its arguments or environment) is a key of that
    /// ConfigMap, and every key of a mounted ConfigMap is named by some container of the pod.
    /// </summary>
    public static List<string> ConfigMapKeys(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        var configMaps = objects.OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name, StringComparer.Ordinal);
        foreach (var deployment in Deployments(objects))
        {
            var pod = deployment.Spec.Template.Spec;
            foreach (var volume in (pod.Volumes ?? []).Where(v => v.ConfigMap is not null))
            {
                if (!configMaps.TryGetValue(volume.ConfigMap.Name, out var configMap))
                {
                    continue;
                }

                var used = new HashSet<string>(StringComparer.Ordinal);
                foreach (var container in AllContainers(pod))
                {
                    foreach (var mount in (container.VolumeMounts ?? []).Where(m => m.Name == volume.Name))
                    {
                        var prefix = mount.MountPath.TrimEnd('/') + "/";
                        var texts = (container.Args ?? []).Concat((container.Env ?? []).Select(e => e.Value ?? ""));
                        foreach (var text in texts)
                        {
                            foreach (var part in text.Split(['=', ';', ' ', ','], StringSplitOptions.RemoveEmptyEntries).Where(p => p.StartsWith(prefix, StringComparison.Ordinal)))
                            {
                                var key = part[prefix.Length..];
                                used.Add(key);
                                if (configMap.Data?.ContainsKey(key) != true)
                                {
                                    problems.Add($"Deployment {deployment.Metadata.Name} container {container.Name} reads {part}, but ConfigMap {configMap.Metadata.Name} has no key '{key}'.");
                                }
                            }
                        }
                    }
                }

                foreach (var key in (configMap.Data?.Keys ?? []).Where(k => !used.Contains(k)))
                {
                    problems.Add($"ConfigMap {configMap.Metadata.Name}: key '{key}' is mounted into Deployment {deployment.Metadata.Name} but no container reads it.");
                }
            }
        }

        return problems;
    }

    /// <summary>HPAs scale an existing Deployment; PDBs select the pods of exactly one.</summary>
    public static List<string> ScaleTargets(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        var deployments = Deployments(objects).ToList();
        foreach (var hpa in objects.OfType<V2HorizontalPodAutoscaler>())
        {
            var target = hpa.Spec.ScaleTargetRef;
            if (target.Kind != "Deployment" || target.ApiVersion != "apps/v1" || !deployments.Any(d => d.Metadata.Name == target.Name))
            {
                problems.Add($"HPA {hpa.Metadata.Name}: target {target.ApiVersion}/{target.Kind} {target.Name} is not a published Deployment.");
            }

            if (hpa.Spec.MinReplicas is not { } min || min < 1 || min > hpa.Spec.MaxReplicas)
            {
                problems.Add($"HPA {hpa.Metadata.Name}: minReplicas {hpa.Spec.MinReplicas} is not within 1..{hpa.Spec.MaxReplicas}.");
            }
        }

        foreach (var pdb in objects.OfType<V1PodDisruptionBudget>())
        {
            var count = deployments.Count(d => Matches(pdb.Spec.Selector, d.Spec.Template.Metadata.Labels));
            if (count != 1)
            {
                problems.Add($"PDB {pdb.Metadata.Name}: its selector matches {count} Deployments' pods, not 1.");
            }
        }

        return problems;
    }

    /// <summary>NetworkPolicy selectors select pods, and their ports are ports those pods listen on.</summary>
    public static List<string> NetworkPolicies(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        var deployments = Deployments(objects).ToList();
        foreach (var policy in objects.OfType<V1NetworkPolicy>())
        {
            var selected = deployments.Where(d => Matches(policy.Spec.PodSelector, d.Spec.Template.Metadata.Labels)).ToList();
            if (selected.Count == 0)
            {
                problems.Add($"NetworkPolicy {policy.Metadata.Name}: its pod selector matches no pods.");
            }

            foreach (var rule in policy.Spec.Ingress ?? [])
            {
                foreach (var peer in rule.FromProperty ?? [])
                {
                    if (peer.PodSelector is { } pods && peer.NamespaceSelector is null && !deployments.Any(d => Matches(pods, d.Spec.Template.Metadata.Labels)))
                    {
                        problems.Add($"NetworkPolicy {policy.Metadata.Name}: a peer's pod selector matches no pods.");
                    }
                }

                foreach (var port in rule.Ports ?? [])
                {
                    foreach (var deployment in selected.Where(d => !RunningContainers(d.Spec.Template.Spec).SelectMany(c => c.Ports ?? []).Any(p => Is(port.Port, p))))
                    {
                        problems.Add($"NetworkPolicy {policy.Metadata.Name}: port {port.Port.Value} is not a container port of Deployment {deployment.Metadata.Name}.");
                    }
                }
            }
        }

        return problems;
    }

    /// <summary>Each ServiceMonitor selects exactly one Service and scrapes ports that Service has.</summary>
    public static List<string> ServiceMonitors(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        foreach (var monitor in objects.OfType<ServiceMonitor>())
        {
            var services = objects.OfType<V1Service>().Where(s => Matches(monitor.Spec.Selector, s.Metadata.Labels)).ToList();
            if (services.Count != 1)
            {
                problems.Add($"ServiceMonitor {monitor.Metadata.Name}: its selector matches {services.Count} Services, not 1.");
                continue;
            }

            foreach (var endpoint in monitor.Spec.Endpoints.Where(e => !services[0].Spec.Ports.Any(p => p.Name == e.Port)))
            {
                problems.Add($"ServiceMonitor {monitor.Metadata.Name}: port '{endpoint.Port}' is not a port of Service {services[0].Metadata.Name}.");
            }
        }

        return problems;
    }

    /// <summary>Ingress backends are published Services and name their ports; TLS covers the rule's host.</summary>
    public static List<string> Ingresses(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name, StringComparer.Ordinal);
        foreach (var ingress in objects.OfType<V1Ingress>())
        {
            foreach (var rule in ingress.Spec.Rules)
            {
                if (!ingress.Spec.Tls.Any(t => t.Hosts.Contains(rule.Host) && !string.IsNullOrEmpty(t.SecretName)))
                {
                    problems.Add($"Ingress {ingress.Metadata.Name}: host {rule.Host} has no TLS secret.");
                }

                foreach (var path in rule.Http.Paths)
                {
                    var backend = path.Backend.Service;
                    if (!services.TryGetValue(backend.Name, out var service))
                    {
                        problems.Add($"Ingress {ingress.Metadata.Name}: backend Service {backend.Name} is not published.");
                    }
                    else if (!service.Spec.Ports.Any(p => p.Name == backend.Port.Name))
                    {
                        problems.Add($"Ingress {ingress.Metadata.Name}: Service {backend.Name} has no port '{backend.Port.Name}'.");
                    }
                }
            }
        }

        return problems;
    }

    /// <summary>
    /// VirtualService destinations are published Services (by fully qualified name in <paramref name="namespace"/>) and
    /// one of their ports, bound to a published Istio Gateway for their hosts; DestinationRules name published Services.
    /// </summary>
    public static List<string> Istio(IReadOnlyList<object> objects, string @namespace)
    {
        var problems = new List<string>();
        var services = objects.OfType<V1Service>().ToDictionary(s => $"{s.Metadata.Name}.{@namespace}.svc.cluster.local", StringComparer.Ordinal);
        var gateways = objects.OfType<IstioGateway>().ToDictionary(g => g.Metadata.Name, StringComparer.Ordinal);
        foreach (var virtualService in objects.OfType<VirtualService>())
        {
            foreach (var name in virtualService.Spec.Gateways ?? [])
            {
                if (!gateways.TryGetValue(name, out var gateway))
                {
                    problems.Add($"VirtualService {virtualService.Metadata.Name}: Gateway {name} is not published.");
                }
                else if (virtualService.Spec.Hosts.Except(gateway.Spec.Servers.SelectMany(s => s.Hosts)).Any())
                {
                    problems.Add($"VirtualService {virtualService.Metadata.Name}: Gateway {name} does not serve all of {string.Join(", ", virtualService.Spec.Hosts)}.");
                }
            }

            foreach (var destination in virtualService.Spec.Http.SelectMany(r => r.Route).Select(r => r.Destination))
            {
                if (!services.TryGetValue(destination.Host, out var service))
                {
                    problems.Add($"VirtualService {virtualService.Metadata.Name}: destination {destination.Host} is not a published Service.");
                }
                else if (!service.Spec.Ports.Any(p => p.Port == destination.Port.Number))
                {
                    problems.Add($"VirtualService {virtualService.Metadata.Name}: Service {service.Metadata.Name} has no port {destination.Port.Number}.");
                }
            }
        }

        foreach (var rule in objects.OfType<DestinationRule>().Where(r => !services.ContainsKey(r.Spec.Host)))
        {
            problems.Add($"DestinationRule {rule.Metadata.Name}: host {rule.Spec.Host} is not a published Service.");
        }

        return problems;
    }

    /// <summary>Pods run as published ServiceAccounts; RoleBindings bind published Roles to published accounts.</summary>
    public static List<string> Rbac(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        var accounts = objects.OfType<V1ServiceAccount>().Select(a => a.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var roles = objects.OfType<V1Role>().Select(r => r.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        // A pod that names none runs as the namespace's "default" account, which Kubernetes creates in every namespace.
        foreach (var deployment in Deployments(objects).Where(d => d.Spec.Template.Spec.ServiceAccountName is { } name && !accounts.Contains(name)))
        {
            problems.Add($"Deployment {deployment.Metadata.Name}: ServiceAccount '{deployment.Spec.Template.Spec.ServiceAccountName}' is not published.");
        }

        foreach (var binding in objects.OfType<V1RoleBinding>())
        {
            if (binding.RoleRef.Kind != "Role" || !roles.Contains(binding.RoleRef.Name))
            {
                problems.Add($"RoleBinding {binding.Metadata.Name}: {binding.RoleRef.Kind} {binding.RoleRef.Name} is not published.");
            }

            foreach (var subject in binding.Subjects.Where(s => s.Kind != "ServiceAccount" || !accounts.Contains(s.Name)))
            {
                problems.Add($"RoleBinding {binding.Metadata.Name}: subject {subject.Kind} {subject.Name} is not a published ServiceAccount.");
            }
        }

        return problems;
    }

    /// <summary>
    /// Every container's environment (its own and that of ConfigMaps it takes whole, which must be published) holds no
    /// brace (an unrendered or mangled placeholder), and every value naming a published Service as <c>host:port</c> is a
    /// URL with a scheme whose port is one of that Service's ports.
    /// </summary>
    public static List<string> Environment(IReadOnlyList<object> objects)
    {
        var problems = new List<string>();
        var configMaps = objects.OfType<V1ConfigMap>().ToDictionary(c => c.Metadata.Name, StringComparer.Ordinal);
        var services = objects.OfType<V1Service>().ToDictionary(s => s.Metadata.Name, StringComparer.Ordinal);
        foreach (var deployment in Deployments(objects))
        {
            foreach (var container in AllContainers(deployment.Spec.Template.Spec))
            {
                var where = $"Deployment {deployment.Metadata.Name} container {container.Name}";
                var env = new List<(string Name, string Value)>();
                foreach (var source in container.EnvFrom ?? [])
                {
                    if (source.ConfigMapRef is { } reference)
                    {
                        if (configMaps.TryGetValue(reference.Name, out var configMap))
                        {
                            env.AddRange((configMap.Data ?? new Dictionary<string, string>()).Select(d => (d.Key, d.Value)));
                        }
                        else if (reference.Optional != true)
                        {
                            problems.Add($"{where}: takes its environment from ConfigMap {reference.Name}, which is not published.");
                        }
                    }
                }

                env.AddRange((container.Env ?? []).Where(e => e.Value is not null).Select(e => (e.Name, e.Value)));
                foreach (var (name, value) in env)
                {
                    if (value.Contains('{', StringComparison.Ordinal) || value.Contains('}', StringComparison.Ordinal))
                    {
                        problems.Add($"{where}: {name}={value} holds a brace.");
                    }

                    var match = System.Text.RegularExpressions.Regex.Match(value, @"^(?<scheme>[a-z][a-z0-9+.-]*://)?(?<host>[a-z0-9][a-z0-9-]*):(?<port>[0-9]+)/?$");
                    if (!match.Success || !services.TryGetValue(match.Groups["host"].Value, out var service))
                    {
                        continue;
                    }

                    if (!match.Groups["scheme"].Success)
                    {
                        problems.Add($"{where}: {name}={value} names Service {service.Metadata.Name} without a scheme.");
                    }

                    if (!service.Spec.Ports.Any(p => p.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) == match.Groups["port"].Value))
                    {
                        problems.Add($"{where}: {name}={value}: Service {service.Metadata.Name} has no port {match.Groups["port"].Value}.");
                    }
                }
            }
        }

        return problems;
    }

    public static IEnumerable<V1Deployment> Deployments(IReadOnlyList<object> objects) => objects.OfType<V1Deployment>();

    /// <summary>Containers and init containers.</summary>
    public static IEnumerable<V1Container> AllContainers(V1PodSpec pod) => (pod.InitContainers ?? []).Concat(pod.Containers);

    /// <summary>Containers that serve while the pod runs: the main ones and native sidecars (restartPolicy Always).</summary>
    public static IEnumerable<V1Container> RunningContainers(V1PodSpec pod) =>
        (pod.InitContainers ?? []).Where(c => c.RestartPolicy == "Always").Concat(pod.Containers);

    /// <summary>matchLabels only; a selector with matchExpressions (which we never emit) matches nothing here.</summary>
    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string>? labels) =>
        selector?.MatchLabels is { Count: > 0 } wanted && selector.MatchExpressions is null or { Count: 0 } && Matches(wanted, labels);

    public static bool Matches(IDictionary<string, string>? selector, IDictionary<string, string>? labels) =>
        selector is { Count: > 0 } && labels is not null && selector.All(s => labels.TryGetValue(s.Key, out var v) && v == s.Value);

    private static bool Is(IntOrString port, V1ContainerPort containerPort) =>
        int.TryParse(port.Value, out var number) ? containerPort.ContainerPort == number : containerPort.Name == port.Value;
}
