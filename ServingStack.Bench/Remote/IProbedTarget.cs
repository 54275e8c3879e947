using ServingStack.Bench.Load;

namespace ServingStack.Bench.Remote;

/// <summary>A target that can send one checked request before a run, so a wrong model or input fails fast and clearly.</summary>
public interface IProbedTarget : ILoadTarget
{
    /// <summary>Sends one request and checks its answer: what went wrong, or the outputs it decoded (where it can).</summary>
    Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken);
}
