namespace ServingStack.Inference.Repository;

/// <summary>Which version folders a model serves: TF Serving's <c>latest</c>, <c>all</c> and <c>specific</c>.</summary>
public sealed class ModelVersionPolicy
{
    public ModelVersionPolicyKind Kind { get; init; } = ModelVersionPolicyKind.Latest;

    /// <summary>For <see cref="ModelVersionPolicyKind.Latest"/>: how many of the newest versions to serve.</summary>
    public int NumVersions { get; init; } = 1;

    /// <summary>For <see cref="ModelVersionPolicyKind.Specific"/>: the versions to serve.</summary>
    public IReadOnlyList<long> Versions { get; init; } = [];

    public static ModelVersionPolicy Default { get; } = new();

    /// <summary>Picks the versions to serve from those on disk (ascending in, ascending out).</summary>
    public IReadOnlyList<long> Select(IReadOnlyList<long> available)
    {
        switch (Kind)
        {
            case ModelVersionPolicyKind.All:
                return available;
            case ModelVersionPolicyKind.Specific:
                var chosen = new List<long>();
                foreach (var v in available)
                {
                    if (Versions.Contains(v))
                    {
                        chosen.Add(v);
                    }
                }

                return chosen;
            default:
                var skip = Math.Max(0, available.Count - NumVersions);
                var latest = new long[available.Count - skip];
                for (var i = 0; i < latest.Length; i++)
                {
                    latest[i] = available[skip + i];
                }

                return latest;
        }
    }

    public override string ToString() => Kind switch
    {
        ModelVersionPolicyKind.All => "all",
        ModelVersionPolicyKind.Specific => $"specific {{{string.Join(", ", Versions)}}}",
        _ => $"latest {{{NumVersions}}}",
    };
}
