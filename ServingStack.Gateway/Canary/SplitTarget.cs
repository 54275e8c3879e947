namespace ServingStack.Gateway.Canary;

/// <summary>A target as routed now (immutable); <see cref="RollbackReason"/> says why analysis took its weight.</summary>
public sealed record SplitTarget(
    string Name,
    string Cluster,
    string? GrpcCluster,
    long? Version,
    string? Label,
    int Weight,
    bool IsStable,
    string? RollbackReason = null,
    DateTimeOffset? RolledBackAt = null);
