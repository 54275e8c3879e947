using ServingStack.ModelSync.Publishing;

namespace ServingStack.Tests.ModelSync;

public sealed class RetentionPolicyTests
{
    [Fact]
    public void Keep_zero_fetches_every_source_version_and_removes_nothing()
    {
        Assert.Equal([3, 2, 1], RetentionPolicy.Wanted([1, 2, 3], [], 0));
        Assert.Empty(RetentionPolicy.ToRemove([1, 2, 3, 4], 0));
    }

    [Fact]
    public void Only_the_newest_versions_are_fetched()
    {
        Assert.Equal([5, 4], RetentionPolicy.Wanted([1, 2, 3, 4, 5], [1, 2], 2));
        Assert.Equal([1, 2, 3], RetentionPolicy.ToRemove([1, 2, 3, 4, 5], 2));
    }

    [Fact]
    public void A_newer_version_in_the_target_is_not_pushed_out_by_older_source_versions()
    {
        // The target has 9 (say, published from an earlier source); keep 2 wants 9 and the source's newest, 5, and
        // does not fetch 4, which retention would remove straight away (and fetch again next pass, forever).
        Assert.Equal([5], RetentionPolicy.Wanted([1, 2, 3, 4, 5], [9], 2));
        Assert.Empty(RetentionPolicy.ToRemove([5, 9], 2));
    }
}
