using System.Runtime.InteropServices;

namespace ServingStack.Bench.Reporting;

/// <summary>Where a result was measured.</summary>
public sealed record MachineInfo
{
    public int Cores { get; init; }

    public string Os { get; init; } = string.Empty;

    public string Dotnet { get; init; } = string.Empty;

    public string Architecture { get; init; } = string.Empty;

    public static MachineInfo Current { get; } = new()
    {
        Cores = Environment.ProcessorCount,
        Os = RuntimeInformation.OSDescription,
        Dotnet = RuntimeInformation.FrameworkDescription,
        Architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
    };
}
