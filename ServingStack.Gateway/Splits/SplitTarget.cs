namespace ServingStack.Gateway.Splits;

/// <summary>
/// A target as routed now (immutable); <see cref="RollbackReason"/> and <see cref="RolledBackAt"/> say why and when its
/// weight was taken to 0 at run time (canary analysis, or an admin's weights), until it has a weight again.
/// </summary>
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
