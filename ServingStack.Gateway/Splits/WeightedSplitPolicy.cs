namespace ServingStack.Gateway.Splits;

/// <summary>Picks a target by weight: at random, or from a sticky key's stable hash so a key keeps its target.</summary>
public static class WeightedSplitPolicy
{
    /// <summary>The target for a draw in [0, total weight); null when no target has weight.</summary>
    public static SplitTarget? Choose(ModelSplit split, ulong? stickyHash)
    {
        ArgumentNullException.ThrowIfNull(split);
        var total = split.TotalWeight;
        if (total <= 0)
        {
            return null;
        }

        var draw = stickyHash is { } hash ? (int)(hash % (ulong)total) : Random.Shared.Next(total);
        foreach (var target in split.Targets)
        {
            if (draw < target.Weight)
            {
                return target;
            }

            draw -= target.Weight;
        }

        return null;
    }
}
