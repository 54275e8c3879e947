namespace ServingStack.Gateway.Admin;

/// <summary>
/// A target as the admin API shows it; <see cref="RollbackReason"/> says why its weight was taken to 0 at run time (by
/// canary analysis, or set to 0 by an admin).
/// </summary>
public sealed record SplitTargetView(
    string Name,
    string Cluster,
    string? GrpcCluster,
    long? Version,
    string? Label,
    int Weight,
    bool Stable,
    string? RollbackReason,
    DateTimeOffset? RolledBackAt);
