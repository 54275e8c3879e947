namespace ServingStack.Gateway.Admin;

/// <summary>A target as the admin API shows it; <see cref="RollbackReason"/> says why canary analysis took its weight.</summary>
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
