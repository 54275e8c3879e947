using System.Globalization;
using k8s.Models;
using ServingStack.AppHost.Hosting;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>CPU (millicores) and memory (bytes) sums for quotas, and their Kubernetes quantity strings.</summary>
internal sealed record ComputeTotals(decimal CpuRequest, decimal MemoryRequest, decimal CpuLimit, decimal MemoryLimit)
{
    public static readonly ComputeTotals Zero = new(0, 0, 0, 0);

    public static ComputeTotals Of(ComputeResources compute) => new(
        Parse(compute.CpuRequest), Parse(compute.MemoryRequest), Parse(compute.CpuLimit), Parse(compute.MemoryLimit));

    public static ComputeTotals operator +(ComputeTotals a, ComputeTotals b) =>
        new(a.CpuRequest + b.CpuRequest, a.MemoryRequest + b.MemoryRequest, a.CpuLimit + b.CpuLimit, a.MemoryLimit + b.MemoryLimit);

    public static ComputeTotals operator *(ComputeTotals a, int n) =>
        new(a.CpuRequest * n, a.MemoryRequest * n, a.CpuLimit * n, a.MemoryLimit * n);

    public ComputeTotals Add(ComputeTotals other) => this + other;

    public ComputeTotals Multiply(int n) => this * n;

    /// <summary>Whole millicores, rounded up (<c>4250m</c>).</summary>
    public static string Cpu(decimal cores) => string.Create(CultureInfo.InvariantCulture, $"{decimal.Ceiling(cores * 1000)}m");

    /// <summary>Whole mebibytes, rounded up (<c>6656Mi</c>).</summary>
    public static string Memory(decimal bytes) => string.Create(CultureInfo.InvariantCulture, $"{decimal.Ceiling(bytes / (1024 * 1024))}Mi");

    private static decimal Parse(string quantity) => new ResourceQuantity(quantity).ToDecimal();
}
