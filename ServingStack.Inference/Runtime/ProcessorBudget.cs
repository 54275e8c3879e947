using System.Globalization;

namespace ServingStack.Inference.Runtime;

/// <summary>
/// How many compute threads one ONNX Runtime run gets when the configuration leaves it to the server. ONNX Runtime's
/// own default counts the host's physical cores, which inside a container with a CPU limit (or under an affinity mask)
/// is more threads than the process may run: there <see cref="Environment.ProcessorCount"/> (which honours both) is
/// used; elsewhere 0 leaves the choice to ONNX Runtime.
/// </summary>
public static class ProcessorBudget
{
    private static readonly Lazy<int> s_threads = new(() => Compute(Environment.ProcessorCount, PhysicalCores("/sys/devices/system/cpu")));

    /// <summary>The default intra-op thread count for this process; 0: ONNX Runtime's default.</summary>
    public static int IntraOpThreads => s_threads.Value;

    internal static int Compute(int processorCount, int? physicalCores) =>
        physicalCores is > 0 and var cores && processorCount < cores ? Math.Max(1, processorCount) : 0;

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
