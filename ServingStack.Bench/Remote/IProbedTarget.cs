using ServingStack.Bench.Load;

namespace ServingStack.Bench.Remote;

/// <summary>A target that can send one checked request before a run, so a wrong model or input fails fast and clearly.</summary>
public interface IProbedTarget : ILoadTarget
{
    /// <summary>Sends one request and checks its answer; null when it is good, else what went wrong.</summary>
    Task<string?> ProbeAsync(CancellationToken cancellationToken);
}
