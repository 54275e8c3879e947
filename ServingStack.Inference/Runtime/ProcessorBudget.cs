using System.Globalization;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// How many compute threads one ONNX Runtime run should get when the configuration leaves it to the server: one per
/// physical core the process may use. <see cref="Environment.ProcessorCount"/> honours a container's CPU limit and
/// the process's affinity; the physical core count (Linux sysfs topology) keeps SMT siblings from doubling it, as
/// ONNX Runtime's own default does on a bare host.
/// </summary>
public static class ProcessorBudget
{
    private static readonly Lazy<int> s_threads = new(() => Compute(Environment.ProcessorCount, PhysicalCores("/sys/devices/system/cpu")));

    /// <summary>The default intra-op thread count for this process.</summary>
    public static int IntraOpThreads => s_threads.Value;

    internal static int Compute(int processorCount, int? physicalCores) =>
        Math.Max(1, physicalCores is > 0 and var cores ? Math.Min(processorCount, cores) : processorCount);

    /// <summary>Distinct (package, core) pairs among the CPUs under <paramref name="cpuRoot"/>; null where unreadable.</summary>
    internal static int? PhysicalCores(string cpuRoot)
    {
        try
        {
            if (!Directory.Exists(cpuRoot))
            {
                return null;
            }

            var cores = new HashSet<(string Package, string Core)>();
            foreach (var cpu in Directory.EnumerateDirectories(cpuRoot, "cpu*"))
            {
                var name = Path.GetFileName(cpu);
                if (!int.TryParse(name.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    continue;
                }

                var topology = Path.Combine(cpu, "topology");
                var core = ReadTrimmed(Path.Combine(topology, "core_id"));
                if (core is null)
                {
                    continue;
                }

                cores.Add((ReadTrimmed(Path.Combine(topology, "physical_package_id")) ?? "0", core));
            }

            return cores.Count > 0 ? cores.Count : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ReadTrimmed(string path) => File.Exists(path) ? File.ReadAllText(path).Trim() : null;
}
