namespace ServingStack.Inference.Runtime;

/// <summary>How one model's ONNX Runtime session runs: provider, device and threads.</summary>
public sealed class ExecutionSettings
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";

    /// <summary><c>cpu</c>, or <c>cuda</c> with a logged fallback to CPU when CUDA cannot load.</summary>
    public string Provider { get; set; } = Cpu;

    public int DeviceId { get; set; }

    /// <summary>Threads inside one operator; 0: ONNX Runtime's default, capped to a container's CPU limit (<see cref="EffectiveIntraOpThreads"/>).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Threads across independent operators; 0 lets ONNX Runtime choose.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>
    /// Whether ONNX Runtime's idle worker threads spin waiting for work. Spinning shaves microseconds off back-to-back
    /// runs but burns cores that the server's own request threads need; off by default for a server.
    /// </summary>
    public bool AllowSpinning { get; set; }

    /// <summary><c>disabled</c>, <c>basic</c>, <c>extended</c> or <c>all</c>.</summary>
    public string GraphOptimizationLevel { get; set; } = "all";

    /// <summary>
    /// The intra-op thread count a session gets (0: ONNX Runtime's default). ONNX Runtime counts the host's cores, so
    /// inside a container with a CPU limit the limit is used instead (<see cref="ProcessorBudget"/>).
    /// </summary>
    public int EffectiveIntraOpThreads => IntraOpThreads > 0 ? IntraOpThreads : ProcessorBudget.IntraOpThreads;

    public ExecutionSettings Clone() => (ExecutionSettings)MemberwiseClone();
}
