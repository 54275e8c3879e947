namespace ServingStack.ModelSync.Publishing;

/// <summary>
/// Which versions of one model to fetch and which to remove when the newest <c>keep</c> are kept (0 keeps all).
/// Fetching only looks at the newest <c>keep</c> of the source and target together, so a version that retention would
/// remove at once is never downloaded, and a newer version in the target is never pushed out by an older one.
/// </summary>
public static class RetentionPolicy
{
    /// <summary>The source versions worth having: all, or those among the newest <paramref name="keep"/> of source and target together.</summary>
    public static IReadOnlyList<long> Wanted(IEnumerable<long> source, IEnumerable<long> target, int keep)
    {
        var sourceSet = source.ToHashSet();
        if (keep <= 0)
        {
            return sourceSet.OrderDescending().ToList();
        }

        var newest = sourceSet.Union(target).OrderDescending().Take(keep);
        return newest.Where(sourceSet.Contains).ToList();
    }

    /// <summary>Target versions beyond the newest <paramref name="keep"/>, oldest first; none when keep is 0.</summary>
    public static IReadOnlyList<long> ToRemove(IEnumerable<long> target, int keep) =>
        keep <= 0 ? [] : target.Distinct().OrderDescending().Skip(keep).Order().ToList();
}
