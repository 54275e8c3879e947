namespace ServingStack.Bench.Remote;

/// <summary>
/// The answer to a target's first request: what was wrong with it (null when nothing), and the outputs it carried
/// where the target decodes them (null where it does not), to compare against another protocol's answer.
/// </summary>
public sealed record ProbeResult(string? Problem, IReadOnlyList<DecodedTensor>? Outputs)
{
    public static ProbeResult Failed(string problem) => new(problem, null);

    public static ProbeResult Succeeded(IReadOnlyList<DecodedTensor>? outputs) => new(null, outputs);
}
